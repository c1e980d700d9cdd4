"""Backends: how generated code names its functions and constants.

A backend is one table plus one runtime module plus one entry in
``BACKENDS``, in the manner of SymPy's printers: which module the generated
code imports, how it refers to that module's functions (``from math import
sin`` -> ``sin(t0)``, or ``import numpy as np`` -> ``np.sin(t0)``), the module
its helpers' source is copied from (``adcompile/runtime/<name>_backend.py``),
and how it spells each op (``spellings.py``).  A table lists only the ops not
spelled as the module's function of the op's own name, and the numpy table is
the math table with what differs overridden.  The CLI's choices and the names
a generated module reserves come from ``BACKENDS``.
"""

from __future__ import annotations

import importlib
import inspect
import math
from dataclasses import dataclass, field
from types import ModuleType
from typing import Mapping

from adcompile.codegen.spellings import (
    UNAVAILABLE,
    Call,
    Choice,
    Helper,
    Infix,
    Power,
    Prefix,
    Reduced,
    Spelling,
)
from adcompile.errors import CompileError

MATH_SPELLINGS: Mapping[str, Spelling] = {
    "add": Infix("+"), "sub": Infix("-"), "mul": Infix("*"), "div": Infix("/"),
    "neg": Prefix("-"), "pow": Power("pow"), "abs": Call("fabs"),
    "sign": Helper("_sign"), "relu": Helper("_relu"), "max": Helper("_max"),
    "min": Helper("_min"), "sigmoid": Helper("_sigmoid"), "softplus": Helper("_softplus"),
    # conditions: operators on booleans; where(c, a, b) is printed as a choice
    "lt": Infix("<"), "le": Infix("<="), "gt": Infix(">"), "ge": Infix(">="),
    "eq": Infix("=="), "ne": Infix("!="), "logical_and": Infix("and"),
    "logical_or": Infix("or"), "logical_not": Prefix("not "), "where": Choice(),
    # reductions and their internal ops need arrays
    "sum": UNAVAILABLE, "mean": UNAVAILABLE, "size": UNAVAILABLE,
    "sum_to": UNAVAILABLE, "broadcast": UNAVAILABLE,
}

NUMPY_SPELLINGS: Mapping[str, Spelling] = {
    **MATH_SPELLINGS,
    # np.divide and np.power: inf and a RuntimeWarning at 0, for Python floats too
    "div": Call("divide"), "pow": Call("power"),
    "asin": Call("arcsin"), "acos": Call("arccos"), "atan": Call("arctan"),
    "atan2": Call("arctan2"), "asinh": Call("arcsinh"), "acosh": Call("arccosh"),
    "atanh": Call("arctanh"), "abs": Call("abs"), "sign": Call("sign"),
    "max": Call("maximum"), "min": Call("minimum"),
    "erf": Helper("_erf"), "erfc": Helper("_erfc"),
    "sum": Call("sum"), "mean": Call("mean"), "size": Helper("_size"),
    "sum_to": Helper("_sum_to"), "broadcast": Helper("_broadcast"),
    # elementwise on arrays: both branches are computed (made safe where not taken)
    "logical_and": Call("logical_and"), "logical_or": Call("logical_or"),
    "logical_not": Call("logical_not"), "where": Call("where"),
}


CONSTANT_NAMES: Mapping[str, str] = {"inf": "inf", "nan": "nan", "pi": "pi"}


@dataclass(frozen=True)
class Backend:
    name: str
    module: str  # the module the generated code imports
    alias: str | None  # "np" for ``import numpy as np``; None for ``from math import ...``
    runtime_name: str  # the module the helpers' source is copied from
    spellings: Mapping[str, Spelling]  # op name -> spelling, where not Call(op name)
    arrays: bool  # works on arrays, elementwise (numpy), not on one point at a time (math)
    # what the backend's module calls inf, nan and pi (``math.inf``, ``np.inf``)
    constant_names: Mapping[str, str] = field(default_factory=lambda: dict(CONSTANT_NAMES), hash=False)
    # how an array argument is read: a runtime helper applied to it (``_as_floats``), or as is
    unpack_helper: str | None = None
    # how a derivative in an array argument's shape is returned: a list, or this function
    # of the backend's module applied to the list (``np.array``)
    array_function: str | None = None
    # written above every generated function and helper (``numba.njit(...)``), and the
    # module that names (imported as itself)
    decorator: str | None = None
    decorator_module: str | None = None
    # written above a fused loop over the points (``numba.njit(parallel=True, ...)``)
    parallel_decorator: str | None = None
    # a program that reduces arrays (sum, mean) is one fused loop over the points
    # per function (``codegen/fused.py``) instead of array expressions
    fused: bool = False

    @property
    def augmented_assign(self) -> bool:
        """May accumulate with ``d += t``: not for arrays, where it would write into an argument."""
        return not self.arrays

    @property
    def free_dead(self) -> bool:
        """``del`` each temporary after its last use, so an intermediate array is freed."""
        return self.arrays

    def spelling(self, op) -> Spelling:
        return self.spellings.get(op.name, Call(op.name))

    def can_print(self, op) -> bool:
        return self.spelling(op) is not UNAVAILABLE

    @property
    def runtime(self) -> ModuleType:
        """Imported on first use, so that the math backend never imports numpy."""
        return importlib.import_module(self.runtime_name)

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
        """The module-level name for inf, nan or pi (``CONSTANT_NAMES`` by default), or None
        for a plain literal."""
        if math.isinf(value):
            key = "inf"
        elif math.isnan(value):
            key = "nan"
        elif value == math.pi:
            key = "pi"
        else:
            return None
        return self.constant_names[key]


MATH = Backend("math", "math", None, "adcompile.runtime.math_backend", MATH_SPELLINGS,
               arrays=False, unpack_helper="_as_floats")
NUMPY = Backend("numpy", "numpy", "np", "adcompile.runtime.numpy_backend", NUMPY_SPELLINGS,
                arrays=True, array_function="array")

# the math backend's code compiled to machine code by numba: scalar functions that
# numba code can call, and a fused parallel loop over the points for sum and mean
NUMBA_SPELLINGS: Mapping[str, Spelling] = {
    **MATH_SPELLINGS,
    "cbrt": Helper("_cbrt"),  # numba has no math.cbrt
    # printed by the fused loop (codegen/fused.py), not as expressions
    "sum": Reduced(), "mean": Reduced(), "size": Reduced(), "sum_to": Reduced(),
    "broadcast": Reduced(),
}
NUMBA = Backend("numba", "math", None, "adcompile.runtime.numba_backend", NUMBA_SPELLINGS,
                arrays=False, decorator='numba.njit(cache=True, error_model="numpy")',
                parallel_decorator='numba.njit(parallel=True, cache=True, error_model="numpy")',
                decorator_module="numba", fused=True)

BACKENDS: dict[str, Backend] = {b.name: b for b in (MATH, NUMPY, NUMBA)}

# the modules generated code refers to by name (its own or its helpers'): no
# function of a generated module may take one of these names
MODULE_NAMES: tuple[str, ...] = tuple(sorted(
    {b.module for b in BACKENDS.values()} | {b.alias for b in BACKENDS.values() if b.alias}
    | {b.decorator_module for b in BACKENDS.values() if b.decorator_module}))


def get_backend(name: str) -> Backend:
    if name in BACKENDS:
        return BACKENDS[name]
    *first, last = [repr(n) for n in BACKENDS]
    choices = f"{', '.join(first)} or {last}" if first else last
    raise CompileError(f"unknown backend {name!r}; choose {choices}")
