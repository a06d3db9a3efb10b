"""Showing pipeline events on stderr: stage names, stills as they appear, a render progress bar."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class Reporter:
    """Receives the pipeline's events (kind, data) and draws them for a person."""

    def __init__(self, console: Console | None = None, quiet: bool = False, label: str = "", stages: bool = True):
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.stages = stages
        self.label = label
        self._status: Any = None
        self._progress: Progress | None = None
        self._rendered: Any = None
        self._encoded: Any = None
        self._started = time.monotonic()

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if self.quiet:
            return
        if kind == "stage":
            self._stop_status()
            self._finish_bar()
            if self.stages:
                self.console.print(f"[dim]· {data['stage']}[/dim]")
        elif kind == "still":
            if self.stages:
                self.console.print(f"[dim]  still frame {data['frame']}: {data['path']}[/dim]")
        elif kind == "progress" and data.get("stage") == "render":
            self._update_bar(data)
        elif kind == "failed":
            self._finish_bar()
        elif kind == "model":
            self._finish_bar()
            who = f" ({self.label})" if self.label else ""
            self.console.print(f"[bold]model{who}[/bold]: {data['kind']} (turn {data['attempt']})")
            if self.console.is_terminal:
                self._status = self.console.status("waiting for the model…")
                self._status.start()
        elif kind == "model-status":
            if data["status"] == "retry":
                self.console.print(f"[yellow]  retrying in {data['delay_s']}s: {data['reason']}[/yellow]")
            elif self._status is not None:
                self._status.update(f"{data['status']}… ({data.get('chunks', 0)} chunks)")
        elif kind == "attempt":
            self._stop_status()
            error = data.get("error")
            if error is not None:
                self.console.print(f"[red]  ✗ {error.one_line()}[/red] → sending it back to the model")

    def _update_bar(self, data: dict[str, Any]) -> None:
        total = data.get("frames") or 1
        if self._progress is None:
            self._progress = Progress(
                TextColumn("  {task.description:<8}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=not self.console.is_terminal,
            )
            self._progress.start()
            self._rendered = self._progress.add_task("rendered", total=total)
            self._encoded = self._progress.add_task("encoded", total=total)
        self._progress.update(self._rendered, completed=data.get("renderedFrames", 0))
        self._progress.update(self._encoded, completed=data.get("encodedFrames", 0))

    def _finish_bar(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def close(self) -> None:
        self._stop_status()
        self._finish_bar()
