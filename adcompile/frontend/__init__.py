"""Front ends: expression text, traced Python functions and SymPy expressions, each lowered to a ``Program``."""
