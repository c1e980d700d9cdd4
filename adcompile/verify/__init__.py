"""The differential check against SymPy."""
