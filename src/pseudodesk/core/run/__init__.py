"""The only package that calls the stages in order: plan, check, export, linkage, demo and self-test."""
