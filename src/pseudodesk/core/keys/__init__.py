"""Keys: the key store and its backends, key files, and this installation's signing key."""
