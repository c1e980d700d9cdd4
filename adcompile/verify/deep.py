"""Run SymPy where it can recurse deeply, within a time limit.

SymPy recurses through an expression to differentiate, print, compare or hash
it, so the check's reference is built by ``run_deep``: in a thread of its own
with a deep stack, with the recursion limit raised while it runs, and
interrupted with ``SymPyTimeout`` past the check's time limit.  What the work
raises is raised in the caller's thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
import time
from typing import Callable, TypeVar

T = TypeVar("T")


class SymPyTimeout(Exception):
    """SymPy took longer than the check's time limit to build its reference."""


# SymPy recurses through an expression to differentiate, print, compare or hash it: a chain
# 60 steps deep takes a few thousand Python frames, past the default limit of 1,000 and
# near what the main thread's 8 MiB stack holds.  So the reference is built in a thread of
# its own with a deep stack, and the recursion limit is raised while it runs, to one frame
# per 4 KiB of that stack (SymPy's frames take well under 1 KiB of it).
DEEP_STACK = 512 * 2**20
_STACK_PER_FRAME = 4096
_DEEP = threading.Lock()  # one deep thread at a time: the recursion limit is process-wide


def run_deep(work: Callable[[], T], seconds: float | None) -> T:
    """``work()``, run in a thread with a deep stack; what it raises is raised here.

    Past ``seconds`` (None: no limit) it is interrupted with ``SymPyTimeout``, and
    again every quarter of a second until it stops (SymPy may catch one, or it may land
    in a garbage-collector callback, where Python only reports it), and
    ``SymPyTimeout`` is raised here.  The recursion limit is raised while it runs:
    in CPython 3.11 that limit is process-wide, so another thread deep in recursion
    meanwhile meets the end of its stack instead of a RecursionError.
    """
    with _DEEP:
        worker = _Worker(work)
        thread, stack = _start_deep(worker.run)
        try:
            with _deep_recursion(stack):
                worker.started.set()
                fired = _wait(thread, worker, seconds)
        except BaseException:  # Ctrl-C: stop SymPy as well
            worker.interrupt(thread)
            raise
        finally:
            worker.started.set()
    if fired and worker.error is not None:
        raise SymPyTimeout(f"SymPy did not finish within {seconds:g} s") from None
    if worker.error is not None:
        raise worker.error
    return worker.result


@contextlib.contextmanager
def _deep_recursion(stack: int):
    """The recursion limit for a thread with ``stack`` bytes of stack, and time-outs
    that land where Python can only report them dropped (the next one will follow)."""
    limit, report = sys.getrecursionlimit(), sys.unraisablehook

    def unraisable(info) -> None:
        if not isinstance(info.exc_value, SymPyTimeout) and info.exc_type is not SymPyTimeout:
            report(info)

    sys.setrecursionlimit(max(limit, stack // _STACK_PER_FRAME))
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        sys.unraisablehook = report
        sys.setrecursionlimit(limit)


class _Worker:
    """The work and its outcome; ``interrupt`` reaches it only while it runs."""

    def __init__(self, work: Callable):
        self.work = work
        self.result = self.error = None
        self.started = threading.Event()
        self.running = True
        self.lock = threading.Lock()

    def run(self) -> None:
        try:
            self.started.wait()
            try:
                self.result = self.work()
            except BaseException as exc:  # handed to the waiting thread
                self.error = exc
            with self.lock:
                self.running = False
        except BaseException:  # SymPyTimeout arriving as the work ended
            self.running = False

    def interrupt(self, thread: threading.Thread) -> None:
        with self.lock:
            if self.running:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                           ctypes.py_object(SymPyTimeout))


def _start_deep(target: Callable) -> tuple[threading.Thread, int]:
    """A daemon thread running ``target`` with the deepest stack it can have, up to
    ``DEEP_STACK``, and that stack's size."""
    stack = DEEP_STACK
    while True:
        previous = threading.stack_size()
        try:
            threading.stack_size(stack)
            thread = threading.Thread(target=target, name="adcompile-sympy", daemon=True)
            thread.start()
            return thread, stack
        except (RuntimeError, ValueError, MemoryError):  # no room for such a stack
            if stack <= 8 * 2**20:
                raise
            stack //= 4
        finally:
            threading.stack_size(previous)


def _wait(thread: threading.Thread, worker: _Worker, seconds: float | None) -> bool:
    """Wait for ``thread`` to end, interrupting it past ``seconds``; whether it was."""
    deadline = None if seconds is None else time.monotonic() + seconds
    fired = False
    while thread.is_alive():
        if deadline is not None and time.monotonic() >= deadline:
            worker.interrupt(thread)
            fired = True
        left = 0.25 if fired else 1.0 if deadline is None else deadline - time.monotonic()
        thread.join(min(max(left, 0.0), 1.0))
    return fired
