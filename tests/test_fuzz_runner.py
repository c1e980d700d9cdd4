"""The long profile's runner (bench/fuzz.py): how it reads and totals its chunks."""

from __future__ import annotations

import json

from bench import fuzz

PYTEST_OUTPUT = """\
tests/test_random.py::test_random_expressions_agree_with_sympy:

  - during generate phase (412.05 seconds):
    - Typical runtimes: ~ 20-900 ms, of which ~ 1-6 ms in data generation
    - 1998 passing, 0 failing, and 112 invalid test cases

  - Stopped because settings.max_examples=2000


tests/test_random.py::test_random_programs_agree_with_sympy:

  - during generate phase (80.00 seconds):
    - 37 passing, 1 failing, and 2 invalid test cases
  - during shrink phase (9.00 seconds):
    - 0 passing, 12 failing, and 3 invalid test cases

tests/test_hardening.py::test_random_bytes:

  - during generate phase (0.15 seconds):
    - 1000 passing, 0 failing, and 0 invalid test cases
"""


def test_statistics_are_read_per_test_and_summed_over_phases():
    assert fuzz.read_statistics(PYTEST_OUTPUT) == {
        "test_random_expressions_agree_with_sympy": [1998, 0, 112],
        "test_random_programs_agree_with_sympy": [37, 13, 5],
        "test_random_bytes": [1000, 0, 0],
    }


def test_a_summary_totals_the_chunks_and_names_each_failure(tmp_path):
    chunks = [
        {"seed": 1, "seconds": 1800.0, "exit": 0, "tests": {"t": [10, 0, 1]}, "commit": "abc1234"},
        {"seed": 2, "seconds": 1800.0, "exit": 1, "tests": {"t": [5, 2, 0]}, "output": "f/seed-2.txt"},
    ]
    log = tmp_path / "run.jsonl"
    log.write_text("".join(json.dumps(c) + "\n" for c in chunks))
    report = fuzz.summarize(fuzz.read_log(str(log)), wall=1800.0)
    assert "2 chunks, 30 minutes of wall time, 1.0 process-hours; 1 chunks with a failure" in report
    assert "| t | 15 | 2 | 1 |" in report
    assert "seed 2, output in `f/seed-2.txt`" in report and "Commits run: abc1234." in report


def test_chunks_cover_exactly_the_cases_asked_for(monkeypatch, tmp_path):
    ran = []
    monkeypatch.setattr(fuzz, "run_chunk", lambda n, seed: ran.append(n) or {
        "seed": seed, "examples": n, "seconds": 0.0, "exit": 0, "tests": {}})
    chunks = fuzz.fuzz(4_500, 2_000, 2, str(tmp_path / "log.jsonl"))
    assert sorted(ran) == [500, 2_000, 2_000] and len(chunks) == 3
    assert len(fuzz.read_log(str(tmp_path / "log.jsonl"))) == 3
