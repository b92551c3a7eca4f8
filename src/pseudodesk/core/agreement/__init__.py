"""The agreement: its profile, the mapping of a spreadsheet's columns to its fields,
suggestions, and profile authoring.
"""
