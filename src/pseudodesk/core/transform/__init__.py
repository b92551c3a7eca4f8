"""Transforming checked values: pseudonyms, OpenPseudonymiser digests, derived and coarsened outputs, aggregates."""
