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


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in JOBS:
        print(__doc__)
        return 2
    extras, command = JOBS[argv[0]]
    ensure_environment(extras)
    return subprocess.run(command + argv[1:], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
