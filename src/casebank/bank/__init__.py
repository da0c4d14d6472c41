"""The bank: case files, their schema, loading and validation."""
