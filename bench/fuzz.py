"""The long profile: differential and parser fuzzing at scale, then size stress.

    python3 tasks.py fuzz [--examples N] [--skip-stress]

Runs the same property tests as CI (tests/test_random.py, tests/test_hardening.py)
with N examples for the main differential test (default 100,000; the others take
fixed fractions of it) and a fresh random seed, then ``bench.stress``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--skip-stress", action="store_true")
    ns = parser.parse_args(argv)
    env = dict(os.environ, ADCOMPILE_FUZZ_EXAMPLES=str(ns.examples))
    start = time.perf_counter()
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "--hypothesis-show-statistics", "tests/test_random.py",
                            "tests/test_hardening.py"], cwd=ROOT, env=env)
    print(f"fuzz: {ns.examples:,} examples per main test, {time.perf_counter() - start:,.0f} s, "
          f"exit {tests.returncode}", flush=True)
    stress = 0
    if not ns.skip_stress:
        stress = subprocess.run([sys.executable, "-m", "bench.stress"], cwd=ROOT).returncode
    return tests.returncode or stress


if __name__ == "__main__":
    sys.exit(main())
