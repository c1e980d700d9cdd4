"""The differential check against SymPy; ``check_program`` is its entry point.

``check.py`` runs it, ``plan.py`` lists what is compared, ``reference.py``
evaluates SymPy's numbers, ``compare.py`` compares them at random points,
``excuses.py`` says where doubles cannot be expected to agree, ``deep.py`` runs
SymPy on a deep stack within a time limit, ``report.py`` holds and prints the
result, and ``sympy_out.py`` turns a graph into SymPy.
"""

from adcompile.verify.check import Subject, check_options, check_program
from adcompile.verify.report import CheckReport, Row

__all__ = ["CheckReport", "Row", "Subject", "check_options", "check_program"]
