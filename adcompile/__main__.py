"""``python -m adcompile`` is the ``adcompile`` command."""

from .cli import entry_point

entry_point()
