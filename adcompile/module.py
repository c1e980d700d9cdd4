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
from types import ModuleType

from .compiler import Built
from .fileio import write_atomic


class _TextLoader(importlib.abc.SourceLoader):
    def __init__(self, name: str, text: str):
        self.name, self.text = name, text

    def get_filename(self, fullname: str) -> str:
        return f"<adcompile {self.name}>"

    def get_data(self, path: str) -> bytes:
        return self.text.encode("utf-8")


def load_source(text: str, name: str = "generated") -> ModuleType:
    """Import generated source text as a module object."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    loader = _TextLoader(name, text)
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
        return tuple(self._built.interface.python_args)

    @property
    def WRT(self) -> tuple:
        return tuple(self._built.interface.python_wrt)

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
