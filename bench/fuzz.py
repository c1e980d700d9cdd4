"""The long profile: differential and parser fuzzing at scale, then size stress.

    python3 tasks.py fuzz [--examples N] [--chunk C] [--jobs J] [--skip-stress]

Runs the property tests CI runs (tests/test_random.py and the parser fuzzing in
tests/test_hardening.py) for N main differential cases in all (default
100,000): in chunks of C main cases (the other tests take fixed fractions of
a chunk, as in CI), each chunk a pytest process with its own random
Hypothesis seed, J chunks at a time (default: one per core).  Each finished
chunk appends a line to the run's log, bench/results/fuzz-DATE.jsonl, so a
long run shows its progress and a stopped one still counts what it did
(``--report LOG [LOG ...]`` totals logs); a failing chunk's
output (with Hypothesis's shrunk example and the seed that reproduces it) is
kept in bench/results/fuzz-failures/.  The totals go to bench/results/fuzz.md.
Then ``bench.stress`` runs the size stress.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

try:
    import resource  # POSIX
except ImportError:
    resource = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")
PROPERTY_TESTS = [
    "tests/test_random.py::test_random_expressions_agree_with_sympy",
    "tests/test_random.py::test_random_programs_agree_with_sympy",
    "tests/test_random.py::test_random_hessians_agree_with_sympy",
    "tests/test_random.py::test_numpy_backend_agrees_with_math_backend_elementwise",
    "tests/test_random.py::test_random_vector_programs_agree_with_sympy",
    "tests/test_random.py::test_random_branches_agree_with_sympy",
    "tests/test_hardening.py::test_random_bytes",
    "tests/test_hardening.py::test_token_soup",
    "tests/test_hardening.py::test_mutated_valid_expressions",
]
MEMORY_LIMIT = 8 * 2**30  # bytes per chunk process
_TEST = re.compile(r"^tests/\S+::(\w+):\s*$")
_COUNTS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def run_chunk(examples: int, seed: int) -> dict:
    """One pytest process over the property tests; its per-test case counts."""
    env = dict(os.environ, ADCOMPILE_FUZZ_EXAMPLES=str(examples))
    commit = current_commit()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--hypothesis-seed={seed}",
         "--hypothesis-show-statistics", *PROPERTY_TESTS],
        cwd=ROOT, env=env, capture_output=True, text=True, preexec_fn=limit_memory if resource else None)
    chunk = {"seed": seed, "examples": examples, "seconds": round(time.perf_counter() - start, 1),
             "exit": done.returncode, "commit": commit, "tests": read_statistics(done.stdout)}
    if done.returncode != 0:
        chunk["output"] = keep_failure(seed, done.stdout + done.stderr)
    return chunk


def limit_memory() -> None:
    """Cap a chunk's address space: a case that swells inside SymPy or mpmath, where
    the time limit cannot interrupt it, then fails with MemoryError and names its case,
    instead of inviting the kernel's OOM killer (which once took a chunk's output)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def current_commit() -> str | None:
    """The commit the chunk runs (a long run may span fixes), if this is a git checkout."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.strip() or None


def read_statistics(output: str) -> dict[str, list[int]]:
    """{test: [passing, failing, invalid]} summed over the phases Hypothesis reports."""
    tests: dict[str, list[int]] = {}
    current = None
    for line in output.splitlines():
        if match := _TEST.match(line):
            current = tests.setdefault(match.group(1), [0, 0, 0])
        elif current is not None and (match := _COUNTS.search(line)):
            for k in range(3):
                current[k] += int(match.group(k + 1))
    return tests


def keep_failure(seed: int, output: str) -> str:
    folder = os.path.join(RESULTS, "fuzz-failures")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"seed-{seed}.txt")
    with open(path, "w") as f:
        f.write(output)
    return os.path.relpath(path, ROOT)


def summarize(chunks: list[dict], wall: float | None) -> str:
    totals: dict[str, list[int]] = {}
    for chunk in chunks:
        for test, counts in chunk["tests"].items():
            totals[test] = [a + b for a, b in zip(totals.setdefault(test, [0, 0, 0]), counts)]
    failed = [c for c in chunks if c["exit"] != 0]
    wall_time = f"{wall / 60:,.0f} minutes of wall time, " if wall is not None else ""
    lines = [f"# Long fuzzing profile ({time.strftime('%Y-%m-%d')})", "",
             f"{len(chunks)} chunks, {wall_time}{sum(c['seconds'] for c in chunks) / 3600:,.1f} "
             f"process-hours; {len(failed)} chunks with a failure.", "",
             "| test | cases run | failing | rejected (assume/filter) |", "|---|---|---|---|"]
    lines += [f"| {test} | {p:,} | {f:,} | {i:,} |" for test, (p, f, i) in totals.items()]
    commits = sorted({c["commit"] for c in chunks if c.get("commit")})
    lines += [""] + ([f"Commits run: {', '.join(commits)}."] if commits else [])
    lines += [f"- failure: seed {c['seed']}, output in `{c['output']}`" for c in failed]
    return "\n".join(lines) + "\n"


def fuzz(examples: int, chunk_size: int, jobs: int, log: str) -> list[dict]:
    sizes = [chunk_size] * (examples // chunk_size) + ([examples % chunk_size] if examples % chunk_size else [])
    seeds = [random.SystemRandom().randrange(2**32) for _ in sizes]
    chunks = []
    with ThreadPoolExecutor(jobs) as pool, open(log, "a") as out:
        for future in as_completed([pool.submit(run_chunk, n, s) for n, s in zip(sizes, seeds)]):
            chunk = future.result()
            out.write(json.dumps(chunk) + "\n")
            out.flush()
            chunks.append(chunk)
            main = chunk["tests"].get("test_random_expressions_agree_with_sympy", [0])[0]
            print(f"fuzz: chunk {len(chunks)}/{len(sizes)} (seed {chunk['seed']}): {main:,} main cases, "
                  f"{chunk['seconds']:,.0f} s, {'ok' if chunk['exit'] == 0 else 'FAILED'}", flush=True)
    return chunks


def read_log(path: str) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000, help="main differential cases in all")
    parser.add_argument("--chunk", type=int, default=2_000, help="main cases per pytest process")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="chunks run at once")
    parser.add_argument("--skip-stress", action="store_true", help="skip the size stress (bench.stress)")
    parser.add_argument("--report", metavar="LOG", nargs="+",
                        help="only total runs' logs (a run stopped early, or resumed in another)")
    ns = parser.parse_args(argv)
    if min(ns.examples, ns.chunk, ns.jobs) < 1:
        parser.error("--examples, --chunk and --jobs must be positive")
    if ns.report:
        chunks = [chunk for log in ns.report for chunk in read_log(log)]
        print(summarize(chunks, None), end="")
        return int(any(c["exit"] for c in chunks))
    os.makedirs(RESULTS, exist_ok=True)
    log = os.path.join(RESULTS, f"fuzz-{time.strftime('%Y%m%d-%H%M%S')}.jsonl")
    print(f"fuzz: logging each chunk to {os.path.relpath(log, ROOT)}", flush=True)
    start = time.perf_counter()
    chunks = fuzz(ns.examples, ns.chunk, ns.jobs, log)
    report = summarize(chunks, time.perf_counter() - start)
    with open(os.path.join(RESULTS, "fuzz.md"), "w") as f:
        f.write(report)
    print(report, flush=True)
    stress = 0 if ns.skip_stress else subprocess.run([sys.executable, "-m", "bench.stress"], cwd=ROOT).returncode
    return int(any(c["exit"] for c in chunks)) or stress


if __name__ == "__main__":
    sys.exit(main())
