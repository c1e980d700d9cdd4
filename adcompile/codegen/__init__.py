"""Code generation: names, the printer and the backends' tables."""
