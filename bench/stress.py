"""Size stress: a 10^6-term sum and 10^5-deep nesting, time and peak memory.

    python3 -m bench.stress [--terms N] [--depth N]

Each case runs in a child process so its peak resident memory (ru_maxrss) is
its own.  Part of the long profile (``python3 tasks.py fuzz``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time


def _case(kind: str, n: int, connection) -> None:
    sys.setrecursionlimit(1000)  # prove nothing recurses over the input
    import adcompile

    if kind == "sum":
        text = " + ".join(f"{(i % 7) + 1}*x*y" if i % 2 else f"sin({i}*x)" for i in range(n))
    else:
        text = "x"
        for i in range(n):
            text = f"sin({text})" if i % 2 else f"(0.5*{text} + y)"
    start = time.perf_counter()
    module = adcompile.compile(text, format=False)
    source = module.source
    built = time.perf_counter() - start
    start = time.perf_counter()
    value = module.grad_f(0.3, 0.7)[0]
    run = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    connection.send({"case": f"{kind} {n:,}", "input_chars": len(text), "lines": source.count("\n"),
                     "build_s": built, "import_and_call_s": run, "peak_rss_bytes": peak,
                     "finite": value == value})


def run(kind: str, n: int) -> dict:
    parent, child = mp.get_context("spawn").Pipe(duplex=False)
    process = mp.get_context("spawn").Process(target=_case, args=(kind, n, child))
    process.start()
    child.close()
    try:
        result = parent.recv()
    except EOFError:
        result = {"case": f"{kind} {n:,}", "error": f"child exited with {process.exitcode}"}
    process.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--terms", type=int, default=1_000_000)
    parser.add_argument("--depth", type=int, default=100_000)
    ns = parser.parse_args(argv)
    results = [run("sum", ns.terms), run("nested", ns.depth)]
    print("| case | input | lines | build s | import+call s | peak memory |")
    print("|---|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            print(f"| {r['case']} | | | {r['error']} | | |")
            continue
        print(f"| {r['case']} | {r['input_chars'] / 1e6:.1f} MB | {r['lines']:,} | {r['build_s']:.1f} | "
              f"{r['import_and_call_s']:.1f} | {r['peak_rss_bytes'] / 2**30:.1f} GiB |")
    print(json.dumps(results))
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
