"""The package that leaves: CSV bytes, their encryption (CMS, 7-Zip), the signed manifest, and reading packages back."""
