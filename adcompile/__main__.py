"""``python -m adcompile`` is the ``adcompile`` command."""

from adcompile.cli import entry_point

entry_point()
