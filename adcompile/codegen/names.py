"""Names in generated code: valid, unique, and as close to the user's as possible.

* A user name that is a Python keyword (``lambda``, ``if``) or otherwise cannot
  be a parameter (``__debug__``) gets a trailing underscore: ``lambda_``.
* ``NameAllocator`` hands out names that collide with nothing already taken:
  the user's own names first, then module-level imports and helpers, then
  temporaries ``t0, t1, ...`` and adjoints ``d_<name>``.  So a user variable
  called ``t0``, ``d_t0``, ``sin`` or ``math`` is simply another taken name.
"""

from __future__ import annotations

import keyword
import re

_UNASSIGNABLE = {"__debug__"}
_DIGITS = re.compile(r"(\d+)")


def is_reserved_word(name: str) -> bool:
    return keyword.iskeyword(name) or name in _UNASSIGNABLE


def python_name(name: str) -> str:
    """The identifier used in generated code for a user's name."""
    while is_reserved_word(name):
        name += "_"
    return name


def natural_key(name: str) -> tuple:
    """Sort key under which ``x2 < x10`` and ``beta0 < omega0 < x``."""
    parts = _DIGITS.split(name)
    folded = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return folded, tuple(parts)


def natural_sorted(names) -> list[str]:
    return sorted(names, key=natural_key)


class NameAllocator:
    """Unique identifiers: each ``take`` returns a name no one else has."""

    def __init__(self, taken=()):
        self.taken: set[str] = set(taken)
        self._counters: dict[str, int] = {}

    def take(self, wanted: str) -> str:
        name = python_name(wanted)
        if name not in self.taken:
            self.taken.add(name)
            return name
        k = 1
        while f"{name}_{k}" in self.taken:
            k += 1
        self.taken.add(f"{name}_{k}")
        return f"{name}_{k}"

    def fresh(self, prefix: str = "t") -> str:
        k = self._counters.get(prefix, 0)
        while f"{prefix}{k}" in self.taken:
            k += 1
        self._counters[prefix] = k + 1
        self.taken.add(f"{prefix}{k}")
        return f"{prefix}{k}"
