"""A compiled module in memory: its source, its names, and its functions.

``CompiledModule`` is what ``adcompile.compile`` returns.  It loads the
generated source through Python's ordinary import machinery (a source loader
over the text; nothing is written to disk), so ``m.grad_f`` is exactly the
function a user gets by importing the saved file.  A compiled backend's
module (numba) is the exception: numba caches machine code only for
functions with a source file, so its text is written once to a cache folder,
named by its digest, and imported from there (``load_file_backed``).
"""

from __future__ import annotations

import functools
import importlib.util
import linecache
import os
import sys
from types import ModuleType

from adcompile.codegen.backends import get_backend
from adcompile.pipeline import Built
from adcompile.errors import CompileError
from adcompile.fileio import write_atomic


@functools.cache
def _text_loader_class() -> type:
    """A source loader over a text.  Made at the first load, since ``importlib.abc``
    (and ``hashlib``, below) are not worth importing for a compile that only writes a file."""
    import importlib.abc

    class TextLoader(importlib.abc.SourceLoader):
        def __init__(self, filename: str, text: str):
            self.filename, self.text = filename, text

        def get_filename(self, fullname: str) -> str:
            return self.filename

        def get_data(self, path: str) -> bytes:
            return self.text.encode("utf-8")

    return TextLoader


def _digest(text: str, length: int) -> str:
    """The first ``length`` hex digits of the text's SHA-1: a module's name, by its text."""
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def load_source(text: str, name: str = "generated") -> ModuleType:
    """Import generated source text as a module object.

    The text is registered with ``linecache`` under the module's file name
    (``<adcompile f 1a2b3c4d5e6f>``, unique per text), as ``sympy.lambdify``
    does, so tracebacks show the generated line and ``inspect.getsource``
    and debuggers find the source.
    """
    digest = _digest(text, 12)
    filename = f"<adcompile {name} {digest}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    loader = _text_loader_class()(filename, text)
    spec = importlib.util.spec_from_loader(f"adcompile_generated_{digest}", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def cache_folder() -> str:
    """Where in-memory numba modules are written, so that numba can cache their machine
    code: ``$ADCOMPILE_CACHE_DIR``, else ``$XDG_CACHE_HOME/adcompile``, else
    ``~/.cache/adcompile``."""
    folder = os.environ.get("ADCOMPILE_CACHE_DIR")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "adcompile")
    return folder


def load_file_backed(text: str, name: str = "generated") -> ModuleType:
    """Import generated source from a file named by its digest in ``cache_folder()``.

    ``numba.njit(cache=True)`` keeps machine code beside a function's source file, so a
    numba module needs a real file; the same text is the same file, so a second process
    compiling the same model finds numba's cache and does not compile again.
    """
    digest = _digest(text, 16)  # longer: the file outlives the process
    folder = cache_folder()
    path = os.path.join(folder, f"adcompile_{name}_{digest}.py")
    if not os.path.exists(path):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise CompileError(f"cannot use {folder!r} for the numba backend's modules "
                               f"(ADCOMPILE_CACHE_DIR): {exc.strerror or exc}") from None
        write_atomic(path, text)
    name = f"adcompile_generated_{digest}"
    if name in sys.modules:  # numba finds a compiled function's globals through its module
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
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
            backend = get_backend(self._built.options.backend)
            compiler = backend.decorator_module  # compiled code (numba) needs a source file
            needs_file = compiler is not None
            if needs_file and importlib.util.find_spec(compiler) is None:
                raise CompileError(f"the {backend.name} backend's module needs {compiler}, which "
                                   f"is not installed: pip install 'adcompile[{backend.name}]'")
            self._module = (load_file_backed if needs_file else load_source)(self.source, self.name)
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
