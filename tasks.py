#!/usr/bin/env python3
"""Set up and run adcompile's jobs with nothing but Python 3.11+ and pip.

    python3 tasks.py demo     compile the seed's example into generated/, run it beside SymPy
    python3 tasks.py test     run the whole test suite
    python3 tasks.py bench    run the benchmark, writing bench/results/
    python3 tasks.py fuzz     the long differential-fuzzing profile

Each job first makes (or refreshes) a virtual environment in .venv and
installs the project into it with the extras the job needs; a stamp file
skips the install when nothing has changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".venv")
BIN = os.path.join(VENV, "Scripts" if os.name == "nt" else "bin")
PYTHON = os.path.join(BIN, "python")

JOBS = {
    # job: (extras to install, command run inside the venv)
    "demo": ("", [PYTHON, "examples/demo.py"]),
    "test": ("test", [PYTHON, "-m", "pytest", "-q"]),
    "bench": ("", [PYTHON, "-m", "bench.run"]),
    "fuzz": ("test", [PYTHON, "-m", "bench.fuzz"]),
}


def ensure_environment(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"adcompile needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not os.path.exists(PYTHON):
        print(f"tasks: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        digest = hashlib.sha256(f.read() + extras.encode()).hexdigest()[:16]
    stamp = os.path.join(VENV, f".stamp-{extras or 'base'}")
    if os.path.exists(stamp) and open(stamp).read() == digest:
        return
    target = f".[{extras}]" if extras else "."
    print(f"tasks: installing adcompile{'[' + extras + ']' if extras else ''} into .venv", flush=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-e", target], cwd=ROOT, check=True)
    with open(stamp, "w") as f:
        f.write(digest)


def ensure_graphviz() -> None:
    """Install Graphviz's ``dot`` (for ``adcompile graph -o x.svg``) where we can.

    Only as root on a Debian-like system; elsewhere the SVG test is skipped with a
    note, and everything else works (DOT output needs no Graphviz).
    """
    if shutil.which("dot") or not shutil.which("apt-get") or getattr(os, "geteuid", lambda: 1)() != 0:
        if not shutil.which("dot"):
            print("tasks: Graphviz's dot is not installed and cannot be installed here; "
                  "the SVG rendering test will be skipped", flush=True)
        return
    print("tasks: installing Graphviz (apt-get install graphviz)", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if subprocess.run(["apt-get", "install", "-y", "-q", "graphviz"], **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], **quiet)
        subprocess.run(["apt-get", "install", "-y", "-q", "graphviz"], **quiet)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in JOBS:
        print(__doc__)
        return 2
    extras, command = JOBS[argv[0]]
    ensure_environment(extras)
    if argv[0] == "test":
        ensure_graphviz()
    return subprocess.run(command + argv[1:], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
