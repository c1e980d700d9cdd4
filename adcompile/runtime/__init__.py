"""The helpers generated modules carry, one module per backend (their source is copied into the output)."""
