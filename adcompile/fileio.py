"""Writing output files atomically: the target is the old file or the new one.

The text goes to a temporary file in the target's directory, is flushed and
fsynced, and is renamed over the target in one step (``os.replace``), so a
full disk, a kill in mid-write, or a second writer can never leave a partial
module behind.  Mistakes (a directory, a missing folder, no permission) become
``CompileError`` with a plain message.
"""

from __future__ import annotations

import os
import tempfile

from adcompile.errors import CompileError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: str) -> None:
    """Fail early, before any work, if ``path`` cannot be written."""
    if os.path.isdir(path):
        raise CompileError(f"cannot write {path!r}: it is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CompileError(f"cannot write {path!r}: the folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CompileError(f"cannot write {path!r}: no permission to write in {folder!r}")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise CompileError(f"cannot write {path!r}: the file is read-only")


def write_atomic(path: str, text: str | bytes) -> None:
    check_writable(path)
    folder = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o666 & ~_umask()
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as exc:
        raise CompileError(f"cannot write {path!r}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        _remove_quietly(temp)
        raise CompileError(f"cannot write {path!r}: {exc.strerror or exc}") from None
    except BaseException:
        _remove_quietly(temp)
        raise


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
