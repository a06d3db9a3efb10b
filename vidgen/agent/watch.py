"""`vidgen watch`: re-check and re-render a video on every save, through the warm service.

The latest save wins: a save during a cycle cancels it and starts over from the new code.
vidgen's own writes (repairs, typed instructions) never trigger a cycle. A failed cycle
keeps the last good MP4. Lines typed at the prompt are `edit` instructions for the model.
"""

from __future__ import annotations

import base64
import hashlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import watchfiles

from ..engine.session import Session
from ..errors import Cancelled, StructuredError, VidgenError
from ..media import viewer
from ..model.client import ModelClient
from ..render import video as render
from ..render.ladder import Stills
from ..workspace import history
from ..workspace.project import Video
from . import critique, loop

# Terminals that show images inline with the iTerm2 protocol (which takes JPEG as it is).
INLINE_IMAGE_TERMINALS = {"iTerm.app", "WezTerm", "vscode"}
EDITOR_DEBRIS = (".swp", ".swx", ".swo", "~", ".tmp", ".partial", ".bak", ".orig", ".crswap")


def is_editor_debris(path: str) -> bool:
    name = Path(path).name
    return name.startswith((".#", "#", ".")) or name.endswith(EDITOR_DEBRIS) or name == "4913" or not name


@dataclass(frozen=True)
class WatchOptions:
    stills_only: bool = False
    repair: str | None = None  # None, "model" (code the model wrote), or "all"
    max_repairs: int = 2
    open_output: bool = False


Show = Callable[[str], None]


class Watcher:
    """One video watched: events from the file watcher and the prompt, cycles run on this thread."""

    def __init__(
        self,
        session: Session,
        video: Video,
        options: WatchOptions,
        show: Show,
        on_event: Callable[[str, dict[str, Any]], None],
        client: Callable[[], ModelClient] | None = None,
        critic: critique.Critic | None = None,
    ):
        self.session = session
        self.video = video
        self.options = options
        self.show = show
        self.on_event = on_event
        self.client_factory = client
        self.critic = critic  # reviews what the model's turns render (--critique); the caller closes it
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.stop = threading.Event()
        self.cancel_cycle = threading.Event()
        self.busy = threading.Event()
        self.writing = threading.Event()
        self.own_writes: dict[str, str] = {}
        self.last_good: Path | None = None
        self.last_rendered: render.RenderResult | None = None  # whose previews are worth showing
        self.opened = False

    # ------------------------------------------------------------------ sources of events

    def _watch_files(self) -> None:
        videos = self.video.folder.parent.resolve()
        prefix = str(self.video.folder.resolve())

        def wanted(_change: watchfiles.Change, path: str) -> bool:
            return (path == prefix or path.startswith(prefix + "/")) and not is_editor_debris(path)

        for changes in watchfiles.watch(
            videos, watch_filter=wanted, debounce=1000, step=150, stop_event=self.stop, raise_interrupt=False
        ):
            paths = {path for _change, path in changes}
            if self.busy.is_set() and not self.writing.is_set() and self._changed_by_user(paths):
                # The latest save wins: stop what runs and start over.
                self.cancel_cycle.set()
                self.session.service.cancel_all()
            self.events.put(("save", paths))

    def _read_prompt(self) -> None:
        for line in sys.stdin:
            if self.stop.is_set():
                return
            if line.strip():
                self.events.put(("instruction", line.strip()))

    def _changed_by_user(self, paths: set[str]) -> bool:
        """False when every changed file holds exactly what vidgen itself last wrote there."""
        return any(self.own_writes.get(path) != _digest(Path(path)) for path in paths)

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        """Watch until Ctrl-C (KeyboardInterrupt) or stop; the caller closes the session."""
        threading.Thread(target=self._watch_files, daemon=True, name="watch-files").start()
        if sys.stdin is not None and self.client_factory is not None:
            threading.Thread(target=self._read_prompt, daemon=True, name="watch-prompt").start()
        self.show(
            f"watching {self.video.folder} (Ctrl-C to stop"
            + (", type an instruction for the model)" if self.client_factory else ")")
        )
        self.events.put(("save", {""}))  # a first cycle at once
        try:
            while not self.stop.is_set():
                try:
                    kind, payload = self.events.get(timeout=0.5)
                except queue.Empty:
                    continue
                if kind == "save":
                    paths = payload | self._drain_saves()
                    if "" in paths or self._changed_by_user(paths):
                        self._cycle()
                elif kind == "instruction":
                    self._instruction(payload)
                elif kind == "previews":
                    self._previews_made(payload)
        finally:
            self.stop.set()

    def _drain_saves(self) -> set[str]:
        """A burst of saves is one cycle: take every save already queued, keep the rest."""
        paths: set[str] = set()
        others = []
        while True:
            try:
                kind, payload = self.events.get_nowait()
            except queue.Empty:
                break
            if kind == "save":
                paths |= payload
            else:
                others.append((kind, payload))
        for item in others:
            self.events.put(item)
        return paths

    def _stage_check(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "stage" and self.cancel_cycle.is_set():
            raise Cancelled("a newer save arrived")
        self.on_event(kind, data)

    def _cycle(self) -> None:
        if not self.video.entry.exists():
            self.show(f"✗ {time.strftime('%H:%M:%S')} src/videos/{self.video.name}/index.tsx is gone: restore it; watch goes on")
            return
        self.cancel_cycle.clear()
        self.busy.set()
        started = time.monotonic()
        first_still: list[float] = []

        def on_event(kind: str, data: dict[str, Any]) -> None:
            if kind == "still" and not first_still:
                first_still.append(time.monotonic() - started)
                self._show_image("first still", Path(data["path"]))
            self._stage_check(kind, data)

        try:
            if self.options.stills_only:
                result = render.check(self.session, self.video, on_event)
            else:
                result = render.render(self.session, self.video, on_event=on_event, stills=Stills.FIRST)
        except Cancelled:
            self.show(f"· {time.strftime('%H:%M:%S')} cancelled: a newer save arrived")
            return
        finally:
            self.busy.clear()
        self._report(result, time.monotonic() - started, first_still[0] if first_still else None)
        if result.error is not None and self.options.repair:
            self._repair(result.error)

    def _report(
        self, result: render.RenderResult, seconds: float, first_still: float | None, model_s: float | None = None
    ) -> None:
        stamp = time.strftime("%H:%M:%S")
        if result.error is not None:
            kept = f"; kept {self.last_good}" if self.last_good else ""
            self.show(f"✗ {stamp} {result.error.one_line()}{kept}")
            if result.error.excerpt:
                self.show(result.error.excerpt)
            return
        ladder = sum(v for k, v in result.timings.items() if k not in {"stills", "render", "previews", "sheet"})
        parts = ([f"model {model_s:.2f}s"] if model_s is not None else []) + [f"ladder {ladder:.2f}s"]
        if first_still is not None:
            parts.append(f"first still {first_still:.2f}s")
        if result.output is not None:
            parts.append(f"mp4 {result.timings.get('render', 0):.2f}s")
            self.last_good = result.output
        where = f" → {result.output}" if result.output else ""
        self.show(f"✓ {stamp} ok · {' · '.join(parts)} · total {seconds:.2f}s{where}")
        if result.output is not None:
            self.last_rendered = result
            if result.previews is not None:
                # Made while the next save's ladder may already run: shown when done, by this thread.
                result.previews.add_done_callback(lambda _done: self.events.put(("previews", result)))
        if self.options.open_output and result.output is not None and not self.opened:
            self.opened = True
            self._open(result.output)
        if len(result.stills) > 1:
            frames = ", ".join(str(s["frame"]) for s in result.stills)
            self.show(f"  stills of frames {frames} in {Path(result.stills[0]['path']).parent}")

    def _previews_made(self, result: render.RenderResult) -> None:
        """A render's previews are made: its contact sheet, unless a newer render came since."""
        if result is not self.last_rendered or result.previews is None:
            return
        problem = result.previews.result()
        if problem:
            self.show(f"  previews: {problem}")
        if result.sheet is not None and result.sheet.is_file():
            self._show_image("contact sheet", result.sheet)

    def _show_image(self, label: str, path: Path) -> None:
        """An image (the first still, the contact sheet): its path, and the image where the terminal can show one."""
        self.show(f"  {label}: {path}")
        if os.environ.get("TERM_PROGRAM") in INLINE_IMAGE_TERMINALS and sys.stderr.isatty():
            data = base64.b64encode(path.read_bytes()).decode()
            sys.stderr.write(f"\x1b]1337;File=inline=1;width=40%;preserveAspectRatio=1:{data}\x07\n")
            sys.stderr.flush()

    def _open(self, path: Path) -> None:
        if viewer.opener() is None:
            self.show(f"  (--open: no xdg-open or open here; the MP4 is {path})")
            return
        try:
            viewer.open_file(path)
        except VidgenError as exc:
            self.show(f"  (--open: {exc})")

    # ------------------------------------------------------------------ the model

    def _written_by_model(self) -> bool:
        current = history.current(self.video)
        return (
            current is not None
            and current.meta.get("kind") not in ("hand-edit", "original")
            and current.files() == history.current_files(self.video)
        )

    def _repair(self, error: StructuredError) -> None:
        if self.options.repair != "all" and not self._written_by_model():
            self.show("  (not sent to the model: you edited this code by hand; use --repair=all to let it fix your edits)")
            return
        self._with_model(
            loop.Request(
                "repair",
                self.video,
                "repair",
                max_repairs=self.options.max_repairs - 1,
                render=not self.options.stills_only,
                error=error,
            )
        )

    def _instruction(self, text: str) -> None:
        self.show(f"· instruction for the model: {text}")
        self._with_model(
            loop.Request("edit", self.video, text, max_repairs=self.options.max_repairs, render=not self.options.stills_only)
        )

    def _with_model(self, request: loop.Request) -> None:
        if self.client_factory is None:
            return
        self.writing.set()
        started = time.monotonic()
        failure: VidgenError | None = None
        try:
            client = self.client_factory()
            try:
                outcome = loop.run(self.session, client, request, self.on_event, critic=self.critic)
            finally:
                client.close()
        except VidgenError as exc:  # the endpoint down, a bad key: said below, and watch goes on
            failure = exc
        finally:
            # What the model left, taken before any line is shown: a save made on reading that line is the user's.
            self.own_writes = {str(p.resolve()): _digest(p) for p in self.video.folder.rglob("*") if p.is_file()}
            self.writing.clear()
        if failure is not None:
            self.show(f"✗ {time.strftime('%H:%M:%S')} model: {failure}; watch goes on")
        elif outcome.ok and outcome.result is not None:
            self._report(outcome.result, time.monotonic() - started, None, model_s=outcome.model_s)
        elif outcome.error is not None:
            self.show(f"✗ {time.strftime('%H:%M:%S')} the model could not fix it: {outcome.error.one_line()}")


def _digest(path: Path) -> str:
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return ""
