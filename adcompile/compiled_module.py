"""A compiled module in memory: its source, its names, and its functions.

``CompiledModule`` is what ``adcompile.compile`` returns.  It loads the
generated source through Python's ordinary import machinery (a source loader
over the text; nothing is written to disk), so ``m.grad_f`` is exactly the
function a user gets by importing the saved file.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.util
import linecache
from types import ModuleType

from adcompile.pipeline import Built
from adcompile.fileio import write_atomic


class _TextLoader(importlib.abc.SourceLoader):
    def __init__(self, filename: str, text: str):
        self.filename, self.text = filename, text

    def get_filename(self, fullname: str) -> str:
        return self.filename

    def get_data(self, path: str) -> bytes:
        return self.text.encode("utf-8")


def load_source(text: str, name: str = "generated") -> ModuleType:
    """Import generated source text as a module object.

    The text is registered with ``linecache`` under the module's file name
    (``<adcompile f 1a2b3c4d5e6f>``, unique per text), as ``sympy.lambdify``
    does, so tracebacks show the generated line and ``inspect.getsource``
    and debuggers find the source.
    """
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    filename = f"<adcompile {name} {digest}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    loader = _TextLoader(filename, text)
    spec = importlib.util.spec_from_loader(f"adcompile_generated_{digest}", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class CompiledModule:
    """The result of ``adcompile.compile``: call its functions, read or save it."""

    def __init__(self, built: Built):
        self._built = built
        self._module: ModuleType | None = None

    @property
    def source(self) -> str:
        """The module text, as ``adcompile EXPR`` prints it."""
        return self._built.source()

    @property
    def name(self) -> str:
        return self._built.options.name

    @property
    def ARGS(self) -> tuple:
        """The module's own ``ARGS``: the very strings of the parameter names, so
        ``f(**dict(zip(m.ARGS, values)))`` matches keywords by identity (fast)."""
        return self.module.ARGS

    @property
    def WRT(self) -> tuple:
        return self.module.WRT

    @property
    def module(self) -> ModuleType:
        if self._module is None:
            self._module = load_source(self.source, self.name)
        return self._module

    def save(self, path: str) -> None:
        """Write the module to ``path`` atomically; its header names that path."""
        write_atomic(path, self._built.source(output=str(path)))

    def render(self, output: str | None = None) -> str:
        """The text ``save(output)`` would write."""
        return self._built.source(output=output)

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        try:
            return getattr(self.module, attr)
        except AttributeError:
            raise AttributeError(f"the compiled module has no {attr!r}") from None

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(dir(self.module)))

    def __repr__(self) -> str:
        return f"<adcompile module {self.name}: ARGS={self.ARGS}>"


def built_of(module: CompiledModule) -> Built:
    """What the pipeline built for ``module``: its text, interface and options (a
    function, not an attribute, so that no generated function's name is shadowed)."""
    return module._built
