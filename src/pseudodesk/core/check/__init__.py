"""Checking: each distinct value checked once, the identifier scan, the check report and the disclosure risk."""
