"""adcompile's version, in a module of its own that imports nothing.

The package's ``__init__`` re-exports it, the generated modules' headers and
``--version`` print it, and packaging reads it (``pyproject.toml``); keeping
it out of ``__init__`` lets ``pipeline.py`` and ``cli.py`` import it without
importing the whole public API.
"""

__version__ = "0.1.0"
