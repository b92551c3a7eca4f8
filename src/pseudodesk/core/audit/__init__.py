"""The hash-chained, signed audit log: appending, verifying, listing."""
