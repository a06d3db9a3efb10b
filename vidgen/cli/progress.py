"""Showing work as it happens, on stderr: a live display in a terminal, plain timed lines when piped.

In a terminal the current stage ticks its elapsed time (frames, fps and ETA during the render)
and each finished stage leaves one line. Piped, there is no ANSI code and no redraw: one line per
stage when it ends (`lint 0.4s`), a percentage line every interval during the render, and a line
at least every few intervals during any long wait, so a log is never silent for a minute.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from ..errors import Cancelled, UsageError

INTERVAL_ENV = "VIDGEN_PROGRESS_INTERVAL"
DEFAULT_INTERVAL_S = 5.0
# A wait with nothing to count (bundle, the model, npm) says it is alive every this many intervals:
# 30 s by default, so a piped log is never silent for a minute and a short wait prints nothing extra.
SLOW_BEATS = 6
_SPEED_WINDOW_S = 3.0


def interval_s() -> float:
    """Seconds between piped render lines: VIDGEN_PROGRESS_INTERVAL, or 5."""
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    if not raw:
        return DEFAULT_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{INTERVAL_ENV}={raw!r} is not a positive number of seconds: set it to e.g. 5, or unset it")
    return max(value, 0.1)


def new_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


class Ticker:
    """Calls `beat` every `period` seconds on a daemon thread until stopped; restartable."""

    def __init__(self, period: float, beat: Callable[[], None]):
        self.period = period
        self.beat = beat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), daemon=True, name="progress")
            self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.period):
            self.beat()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)


def seconds(value: float) -> str:
    """`0.4s`, `12.3s`, `2m05s`: short enough for a stage line."""
    if value < 60:
        return f"{value:.1f}s"
    minutes, rest = divmod(int(value), 60)
    return f"{minutes}m{rest:02d}s"


@dataclass
class _Stage:
    """The stage under way and what is known of its progress."""

    name: str
    label: str
    started: float
    last_line: float
    frames: int = 0
    rendered: int = 0
    encoded: int = 0
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    status: str = ""  # the model's: thinking, writing
    chunks: int = 0
    note: str = ""  # what a long stage does, in words (npm ci)

    def elapsed(self, now: float) -> float:
        return now - self.started

    def fps(self, now: float) -> float | None:
        """Frames a second over the last few seconds (over the whole render until then)."""
        recent = [(t, n) for t, n in self.samples if now - t <= _SPEED_WINDOW_S] or list(self.samples)
        if len(recent) < 2 or recent[-1][0] <= recent[0][0]:
            return None
        return (recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0]) or None

    def pace(self, now: float) -> tuple[float, float] | None:
        """Frames a second and seconds left, while frames are still being rendered and a rate is known."""
        speed = self.fps(now)
        if not speed or self.rendered >= self.frames:
            return None
        return speed, (self.frames - self.rendered) / speed

    def detail(self) -> str:
        """What the stage is at, in words: the model's stream, or the encoder catching up."""
        if self.status:
            return f"{self.status}, {self.chunks} chunks" if self.chunks else self.status
        if self.note:
            return self.note
        if self.frames and self.rendered >= self.frames and self.encoded < self.frames:
            return f"encoding {self.encoded}/{self.frames}"
        return ""


class Reporter:
    """Receives the pipeline's events (kind, data) and shows them to a person on stderr.

    Kinds: `stage` (a stage begins; the one before it ends), `previews` (the poster and GIF
    begin, a step that a newer save in `watch` does not cancel), `progress` (render frames),
    `still`, `skipped` (a stage not run: its sources passed it unchanged), `failed`, `model`, `model-status`, `note` (a line to show),
    `attempt`; other kinds are ignored.
    `close()` ends the last stage; the reporter can be used again after it.
    """

    def __init__(
        self,
        console: Console | None = None,
        quiet: bool = False,
        label: str = "",
        interval: float | None = None,
        stills: bool = True,
    ):
        self.console = console or new_console()
        self.quiet = quiet
        self.label = label
        self.stills = stills  # `watch` lists a cycle's stills itself
        self.interval = interval if interval is not None else interval_s()
        self.live_display = self.console.is_terminal
        self._lock = threading.RLock()
        self._stage: _Stage | None = None
        self._live: Live | None = None
        self._spinner = Spinner("dots")  # one for the run: a new one each redraw would never turn
        self._ticker = Ticker(min(self.interval, 1.0) / 2, self._beat)

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if self.quiet:
            return
        with self._lock:
            if kind == "stage":
                self._begin(data["stage"], data["stage"], data.get("note"))
            elif kind == "previews":
                self._begin("previews", "previews")
            elif kind == "progress" and data.get("stage") == "render":
                self._render_progress(data)
            elif kind == "skipped":
                self._end()
                self._line(f"{data['stage']} skipped: {data['reason']}", style="dim")
            elif kind == "still" and self.stills:
                self._line(f"  still frame {data['frame']}: {data['path']}", style="dim")
            elif kind == "failed":
                self._end(outcome="failed")
            elif kind == "model":
                who = f" ({self.label})" if self.label else ""
                self._begin("model", f"model{who} turn {data['attempt']} ({data['kind']})")
            elif kind == "model-status" and self._stage is not None:
                if data["status"] == "retry":
                    self._line(f"  retrying in {data['delay_s']}s: {data['reason']}", style="yellow")
                else:
                    self._stage.status, self._stage.chunks = data["status"], data.get("chunks", 0)
            elif kind == "note":
                self._line(f"  {data['message']}", style="yellow")
            elif kind == "named":
                self._line(f"  the model named the video {data['name']} (src/videos/{data['name']}/)", style="dim")
            elif kind == "infra-retry":
                self._end(outcome="failed")
                error = data["error"]
                self._line(
                    f"  ↻ {error.one_line()} → not the video's fault: trying once more on a fresh render service", style="yellow"
                )
            elif kind == "attempt":
                self._end()
                error = data.get("error")
                if error is not None:
                    then = "no repair turns left" if data.get("last") else "sending it back to the model"
                    self._line(f"  ✗ {error.one_line()} → {then}", style="red")

    def close(self) -> None:
        """End the stage under way and the live display; nothing more is drawn until the next event.

        Called while an exception unwinds, the stage is shown as stopped (Ctrl-C, a newer save in
        `watch`) or failed (any other error), never as done.
        """
        unwinding = sys.exc_info()[0]
        if unwinding is None:
            outcome = ""
        else:
            outcome = "stopped" if issubclass(unwinding, (KeyboardInterrupt, Cancelled)) else "failed"
        with self._lock:
            self._end(outcome)
            live, self._live = self._live, None
        self._ticker.stop()
        if live is not None:
            live.stop()

    # ------------------------------------------------------------------ stages

    def _begin(self, name: str, label: str, note: str | None = None) -> None:
        self._end()
        now = time.monotonic()
        self._stage = _Stage(name, label, now, now, note=note or "")
        if note and not self.live_display:
            self._line(f"{label}: {note}…")
        if not self.live_display:
            self._ticker.start()
        elif self._live is None:
            # stdout stays the command's own: a result piped to a file is never drawn on the terminal.
            self._live = Live(
                get_renderable=self._renderable,
                console=self.console,
                refresh_per_second=8,
                transient=True,
                redirect_stdout=False,
            )
            self._live.start()

    def _end(self, outcome: str = "") -> None:
        """The stage's one line: `lint 0.4s`, or `lint failed after 0.4s` / `render stopped after 2.0s`."""
        stage, self._stage = self._stage, None
        if stage is None:
            return
        took = seconds(stage.elapsed(time.monotonic()))
        frames = f" ({stage.frames} frames)" if stage.frames and not outcome else ""
        if self.live_display:
            mark = f"[red]✗[/red] {escape(stage.label)} {outcome}" if outcome else f"[green]✓[/green] {escape(stage.label)}"
            self.console.print(f"{mark} [dim]{took}{frames}[/dim]")
        else:
            self._line(f"{stage.label} {outcome + ' after ' if outcome else ''}{took}{frames}")

    def _render_progress(self, data: dict[str, Any]) -> None:
        if self._stage is None or self._stage.name != "render":
            self._begin("render", "render")
        stage = self._stage
        assert stage is not None
        stage.frames = int(data.get("frames") or 0)
        stage.rendered = int(data.get("renderedFrames") or 0)
        stage.encoded = int(data.get("encodedFrames") or 0)
        stage.samples.append((time.monotonic(), stage.rendered))

    def _line(self, text: str, style: str = "") -> None:
        if self.live_display and style:
            self.console.print(f"[{style}]{escape(text)}[/{style}]")
        else:
            self.console.print(text, markup=False)
        if self._stage is not None:
            self._stage.last_line = time.monotonic()

    # ------------------------------------------------------------------ piped: lines on a clock

    def _beat(self) -> None:
        with self._lock:
            stage, now = self._stage, time.monotonic()
            if stage is None:
                return
            quiet_for = now - stage.last_line
            if stage.frames and quiet_for >= self.interval:
                self._line(render_line(stage, now))
            elif quiet_for >= self.interval * SLOW_BEATS:
                detail = stage.detail()
                self._line(f"{stage.label} still running, {seconds(stage.elapsed(now))}" + (f": {detail}" if detail else ""))

    # ------------------------------------------------------------------ a terminal: one live line

    def _renderable(self) -> RenderableType:
        with self._lock:
            stage, now = self._stage, time.monotonic()
            if stage is None:
                return Text("")
            elapsed = seconds(stage.elapsed(now))
            detail = stage.detail()
            if not stage.frames:
                text = f"{stage.label} [dim]{elapsed}{' · ' + escape(detail) if detail else ''}[/dim]"
                self._spinner.update(text=Text.from_markup(text))
                return self._spinner
            # Not `update(text="")`: rich ignores an empty text there, and the spinner kept the
            # frameless line's "render 0.0s" beside the row, a frozen timer and "render" twice.
            self._spinner.text = Text("")
            row = Table.grid(padding=(0, 1))
            pace = stage.pace(now)
            row.add_row(
                self._spinner,
                Text(stage.label),
                ProgressBar(total=stage.frames, completed=stage.rendered, width=30),
                Text(f"{stage.rendered}/{stage.frames} frames"),
                Text(f"{pace[0]:.1f} fps" if pace else "", style="dim"),
                Text(f"ETA {seconds(pace[1])}" if pace else "", style="dim"),
                Text(elapsed + (f" · {detail}" if detail else ""), style="dim"),
            )
            return Group(row)


def render_line(stage: _Stage, now: float) -> str:
    """`render 40% (24/60 frames, 3.1s, 12.0 fps, ETA 3.0s)`: one piped render line."""
    percent = int(100 * stage.rendered / stage.frames) if stage.frames else 0
    parts = [f"{stage.rendered}/{stage.frames} frames", seconds(stage.elapsed(now))]
    pace = stage.pace(now)
    if pace:
        parts += [f"{pace[0]:.1f} fps", f"ETA {seconds(pace[1])}"]
    detail = stage.detail()
    if detail:
        parts.append(detail)
    return f"{stage.label} {percent}% ({', '.join(parts)})"
