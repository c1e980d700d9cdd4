"""adcompile: compile expressions into straight-line Python gradient code.

    >>> import adcompile
    >>> m = adcompile.compile("(w*x + b - y)**2", name="loss")
    >>> m.grad_loss(w=2.0, x=3.0, b=1.0, y=0.5)
    (42.25, (13.0, 39.0, 26.0, -13.0))

The public API is ``compile``, ``check`` and ``ParseError``; everything else
is internal.
"""

__version__ = "0.1.0"

from .api import check, compile  # noqa: E402
from .errors import AdcompileError, CompileError, ParseError  # noqa: E402

__all__ = ["compile", "check", "ParseError", "CompileError", "AdcompileError", "__version__"]
