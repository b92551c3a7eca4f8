"""The encodings an export is encrypted in: CMS EnvelopedData and 7-Zip AES-256."""
