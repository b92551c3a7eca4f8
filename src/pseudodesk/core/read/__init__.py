"""Reading: a CSV or workbook file becomes a SourceTable of text, as the user saw it in Excel."""
