"""Progress on stderr for long compiles.

The pipeline reports ``(stage, done, total)``; ``Progress`` stays silent for
the first ``delay`` seconds, so small compiles print nothing, and after that
draws one line per stage: a bar redrawn in place on a terminal, or one line
per stage (no bar) when stderr is a file or a pipe.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30


class Progress:
    def __init__(self, stream: TextIO | None = None, delay: float = 1.0):
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.start = time.monotonic()
        self.stage: str | None = None
        self.interactive = getattr(self.stream, "isatty", lambda: False)()
        self.drawn = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if time.monotonic() - self.start < self.delay:
            return
        if stage != self.stage:
            self._end_line()
            self.stage = stage
            if not self.interactive:
                self.stream.write(f"adcompile: {stage}...\n")
                self.stream.flush()
        if self.interactive:
            self._draw(stage, done, total)

    def _draw(self, stage: str, done: int, total: int) -> None:
        fraction = min(1.0, done / total) if total else 0.0
        filled = int(fraction * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - self.start
        self.stream.write(f"\radcompile: [{bar}] {fraction:4.0%} {stage} ({elapsed:.0f} s)")
        self.stream.flush()
        self.drawn = True

    def _end_line(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

    def finish(self) -> None:
        """End the bar's line, if one was drawn."""
        self._end_line()
