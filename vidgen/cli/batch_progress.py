"""`vidgen batch`'s progress on stderr: a bar with counts in a terminal; piped, a line per item and a line on a clock."""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .progress import SLOW_BEATS, Ticker, interval_s, new_console, seconds


class BatchDisplay:
    """A batch's progress: a bar with counts in a terminal; piped, a line per item and a line on a clock."""

    def __init__(self, total: int, console: Console | None = None, quiet: bool = False, interval: float | None = None):
        self.console = console or new_console()
        self.quiet = quiet
        self.total = total
        self.counts = {"done": 0, "failed": 0, "running": 0}
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._last_line = self.started
        self._period = (interval if interval is not None else interval_s()) * SLOW_BEATS
        self._ticker = Ticker(min(self._period, 1.0) / 2, self._beat)
        self._bar: Progress | None = None
        self._task: Any = None

    def start(self) -> None:
        if self.quiet:
            return
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._task = self._bar.add_task(self.describe(), total=self.total)
            self._bar.start()
        else:
            self._ticker.start()

    def describe(self) -> str:
        c = self.counts
        return f"rendered {c['done']} · failed {c['failed']} · running {c['running']}"

    def item_started(self, name: str) -> None:
        with self._lock:
            self.counts["running"] += 1
        self._refresh()

    def item_finished(self, name: str, ok: bool, error: str | None) -> None:
        with self._lock:
            self.counts["running"] -= 1
            self.counts["done" if ok else "failed"] += 1
            finished = self.counts["done"] + self.counts["failed"]
        if ok:
            self.note(f"{name}: ✓ ({finished}/{self.total})")
        else:
            self.say(f"{name}: ✗ {error or ''} ({finished}/{self.total})")  # an error shows even with --quiet
        if self._bar is not None:
            self._bar.advance(self._task)
        self._refresh()

    def note(self, text: str) -> None:
        """A line that --quiet leaves out."""
        if not self.quiet:
            self.say(text)

    def say(self, text: str) -> None:
        self.console.print(text, markup=False)
        self._last_line = time.monotonic()

    def stop(self) -> None:
        self._ticker.stop()
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _refresh(self) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=self.describe())

    def _beat(self) -> None:
        now = time.monotonic()
        if now - self._last_line >= self._period:
            self.say(f"batch {self.describe()} of {self.total}, {seconds(now - self.started)}")
