"""adcompile: compile expressions into straight-line Python gradient code.

    >>> import adcompile
    >>> m = adcompile.compile("(w*x + b - y)**2", name="loss")
    >>> m.grad_loss(w=2.0, x=3.0, b=1.0, y=0.5)
    (42.25, (13.0, 39.0, 26.0, -13.0))

The public API is ``compile``, ``check``, the ``gradient`` decorator, the
errors, and the op functions for tracing Python code (``adcompile.sin``,
``adcompile.exp``, ... ``adcompile.max``): each builds a graph node when given
a traced value and computes a float when given numbers.  The op functions are
attributes but not in ``__all__``, so ``from adcompile import *`` does not
shadow the builtins ``abs``, ``min`` and ``max``.
"""

from adcompile.api import check, compile, gradient
from adcompile.errors import AdcompileError, CompileError, ParseError
from adcompile.frontend.language import CONSTANTS as _CONSTANTS
from adcompile.frontend.trace import OP_FUNCTIONS as _OP_FUNCTIONS
from adcompile.ir.node import TracingError
from adcompile.version import __version__

globals().update(_OP_FUNCTIONS)
pi = _CONSTANTS["pi"]

__all__ = ["compile", "check", "gradient", "ParseError", "CompileError", "AdcompileError",
           "TracingError", "__version__"]
