"""Backends: how generated code names its functions and constants.

A backend is a small table, in the manner of SymPy's printers: which module
the generated code imports, how it refers to that module's functions
(``from math import sin`` -> ``sin(t0)``, or ``import numpy as np`` ->
``np.sin(t0)``), where its helper functions live, and which column of the op
table (``Op.math`` / ``Op.numpy``) holds the op's spelling.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from types import ModuleType

import adcompile.runtime.math_backend as runtime_math


@dataclass(frozen=True)
class Backend:
    name: str
    module: str  # the module the generated code imports
    alias: str | None  # "np" for ``import numpy as np``; None for ``from math import ...``
    runtime: ModuleType  # where the helpers' source lives
    augmented_assign: bool  # may accumulate with ``d += t`` (not for arrays)
    free_dead: bool = False  # ``del`` each temporary after its last use (arrays)

    def spelling(self, op) -> object:
        return getattr(op, self.name)

    def helper_source(self, helper: str) -> str:
        return inspect.getsource(getattr(self.runtime, helper))

    def helper_imports(self, helpers: list[str], module_alias: str | None) -> list[str]:
        """The imports the helpers' own source relies on (``math.``, ``np.``)."""
        source = "".join(self.helper_source(h) for h in helpers)
        lines = ["import math"] if "math." in source else []
        if "np." in source and module_alias != "np":
            lines.append("import numpy as np")
        return lines

    def constant(self, value: float) -> str | None:
        """The module-level name for inf, nan and pi, or None for a plain literal."""
        if math.isinf(value):
            return "inf"
        if math.isnan(value):
            return "nan"
        if value == math.pi:
            return "pi"
        return None


MATH = Backend("math", "math", None, runtime_math, True)


def get_backend(name: str) -> Backend:
    if name == "math":
        return MATH
    if name == "numpy":
        import adcompile.runtime.numpy_backend as runtime_numpy

        return Backend("numpy", "numpy", "np", runtime_numpy, False, free_dead=True)
    from adcompile.errors import CompileError

    raise CompileError(f"unknown backend {name!r}; choose 'math' or 'numpy'")
