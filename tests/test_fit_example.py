"""The fitting example runs, and the generated gradient makes the loss fall."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))


def test_fit_udl_loss_falls_by_a_large_factor(tmp_path, capsys):
    import fit_udl

    ratio = fit_udl.main(["--optimizer", "gd", "--points", "300", "--iterations", "1000",
                          "--plot", str(tmp_path / "fit.png")])
    assert ratio > 50
    out = capsys.readouterr().out
    assert "mean squared error at the end" in out
