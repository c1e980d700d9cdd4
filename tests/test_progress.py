"""Progress on stderr: silent for quick compiles, stages or a bar for long ones."""

import io

from adcompile.api import build_module, make_options
from adcompile.progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def compile_with(progress):
    build_module(" + ".join(f"a{i}*sin(b{i})" for i in range(1500)),
                 make_options(None, None, None, format=False), progress)


def test_quick_compiles_print_nothing():
    stream = io.StringIO()
    compile_with(Progress(stream, delay=60.0))
    assert stream.getvalue() == ""


def test_a_pipe_gets_one_line_per_stage():
    stream = io.StringIO()
    progress = Progress(stream, delay=0.0)
    compile_with(progress)
    progress.finish()
    assert stream.getvalue() == "adcompile: differentiating...\nadcompile: printing...\n"


def test_a_terminal_gets_a_bar_redrawn_in_place():
    stream = FakeTerminal()
    progress = Progress(stream, delay=0.0)
    compile_with(progress)
    progress.finish()
    text = stream.getvalue()
    assert "\radcompile: [" in text and "differentiating" in text
    assert text.endswith("\n")
