"""The chat's runs: an instruction becomes `edit`, an idea becomes `new`, "render this version" a render;
one at a time, on a worker thread.

The loop reports through `on_event(kind, data)`; each event is kept, numbered, as JSON, and the page reads
them as Server-Sent Events from any number on. Cancel sets a flag the next event raises `Cancelled` on,
and cancels the service's requests, so the run stops at once and nothing it started outlives it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..agent import critique, loop
from ..check import constraints
from ..engine.session import Session
from ..errors import Cancelled, UsageError, VidgenError
from ..model.client import ModelClient
from ..render import video as render_module
from ..workspace import history, outputs, project


def as_json(value: Any) -> Any:
    """An event's data as plain JSON: errors and findings by their `to_dict()`, anything else as text."""
    return json.loads(json.dumps(value, default=lambda o: o.to_dict() if hasattr(o, "to_dict") else str(o)))


@dataclass
class Run:
    number: int
    video: str
    kind: str  # "new" | "edit" | "render"
    prompt: str
    version: int | None = None  # the version a render run renders
    events: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)


class Runs:
    """The runs of one page; `changed` is notified on every event, so streams wait instead of polling."""

    def __init__(
        self,
        session: Session,
        make_client: Callable[[], ModelClient],
        make_critic: Callable[[], critique.Critic | None] = lambda: None,
    ):
        """`make_client`, `make_critic`: the model's client and the vision critique (None: none), made at the first run
        (a missing key is that run's error, not the page's)."""
        self.session = session
        self._make_client = make_client
        self._make_critic = make_critic
        self._client: ModelClient | None = None
        self._critic: critique.Critic | None = None
        self.runs: list[Run] = []
        self.changed = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    def start(self, video_name: str, prompt: str, kind: str) -> Run:
        """Start `edit` of an existing video, or `new` (its name from the idea when `video_name` is empty)."""
        prompt = prompt.strip()
        if not prompt:
            raise UsageError("say what to make or change")
        workspace = self.session.workspace
        with self.changed:
            self._refuse_while_running()
            if kind == "edit":
                video = workspace.existing_video(video_name)
            elif kind == "new":
                video = workspace.video(
                    project.validate_name(video_name) if video_name else project.name_from_idea(workspace, prompt)
                )
                if video.exists():
                    raise UsageError(f"{video.name} exists already: edit it, or name the new video otherwise")
            else:
                raise UsageError(f"unknown kind of run: {kind!r}")
            if self._client is None:
                self._client = self._make_client()
                self._critic = self._make_critic()
            run = Run(len(self.runs) + 1, video.name, kind, prompt)
            self.runs.append(run)
        return self._begin(run, video)

    def render(self, video_name: str, number: int) -> Run:
        """Render version `number`: its files are put back (`vidgen undo --to N`, hand edits kept as a version
        first), then rendered (`vidgen render`); a version whose video is kept gets it back without a render."""
        with self.changed:
            self._refuse_while_running()
            video = self.session.workspace.existing_video(video_name)
            history.numbered(video, history.versions(video), number)  # refused here, not in the run, when not kept
            run = Run(len(self.runs) + 1, video.name, "render", f"render version {number}", version=number)
            self.runs.append(run)
        return self._begin(run, video)

    def _begin(self, run: Run, video: project.Video) -> Run:
        self._thread = threading.Thread(target=self._work, args=(run, video), name=f"ui-run-{run.number}", daemon=True)
        self._thread.start()
        return run

    def _event(self, run: Run, kind: str, data: dict[str, Any]) -> None:
        if run.cancelled.is_set():
            raise Cancelled("cancelled on the page")
        self._add(run, kind, data)

    def _add(self, run: Run, kind: str, data: dict[str, Any], done: bool = False) -> None:
        with self.changed:
            run.events.append({"n": len(run.events), "kind": kind, "data": as_json(data)})
            run.done = run.done or done
            self.changed.notify_all()

    def _work(self, run: Run, video: project.Video) -> None:
        try:
            end = self._render(run, video) if run.kind == "render" else self._loop(run, video)
        except Cancelled as exc:
            self._add(run, "end", {"status": "cancelled", "ok": False, "message": str(exc)}, done=True)
        except VidgenError as exc:
            self._add(run, "end", {"status": "error", "ok": False, "message": str(exc)}, done=True)
        except Exception as exc:  # the boundary: one line, as the CLI's
            self._add(
                run, "end", {"status": "error", "ok": False, "message": f"internal error: {type(exc).__name__}: {exc}"}, done=True
            )
        else:
            self._add(run, "end", end, done=True)

    def _loop(self, run: Run, video: project.Video) -> dict[str, Any]:
        settings = self.session.settings
        request = loop.Request(
            run.kind,
            video,
            run.prompt,
            constraints.build(None, None, None, None, settings.limits),
            max_repairs=settings.model.max_repairs,
            polish=settings.model.polish,
            name_it=run.kind == "new",
        )
        assert self._client is not None
        outcome = loop.run(self.session, self._client, request, lambda kind, data: self._event(run, kind, data), self._critic)
        run.video = outcome.name  # the model may have named a new video
        return {**outcome.to_json(), "ok": outcome.ok}

    def _render(self, run: Run, video: project.Video) -> dict[str, Any]:
        assert run.version is not None
        number = run.version
        version, restored = outputs.step(video, lambda v: history.go_to(v, number))
        self._event(run, "restored", {"version": version.number, "video": restored is not None})
        if restored is not None:
            return {"name": video.name, "status": "rendered", "ok": True, "version": number, "output": str(restored)}
        result = render_module.render(self.session, video, on_event=lambda kind, data: self._event(run, kind, data))
        return {**result.to_json(), "ok": result.error is None, "version": result.version}

    def _refuse_while_running(self) -> None:
        if self.current is not None and not self.current.done:
            raise UsageError(f"a run on {self.current.video} is under way: wait for it or cancel it")

    @contextmanager
    def between_runs(self) -> Iterator[None]:
        """Held while no run is under way, which none may start meanwhile: undo and redo change the files a run
        edits, so they are refused during one."""
        with self.changed:
            self._refuse_while_running()
            yield

    def cancel(self) -> bool:
        """Stop the current run; False when none is under way."""
        run = self.current
        if run is None or run.done:
            return False
        run.cancelled.set()
        self.session.service.cancel_all()
        return True

    def wait(self, run: Run, after: int, timeout_s: float) -> list[dict[str, Any]]:
        """The run's events numbered `after` and above, waiting up to `timeout_s` for one."""
        with self.changed:
            if len(run.events) <= after and not run.done:
                self.changed.wait(timeout_s)
            return run.events[after:]

    def stop(self, timeout_s: float = 30.0) -> None:
        """Cancel what runs and wait for its thread (the server is stopping)."""
        self.cancel()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._client is not None:
            self._client.close()
        if self._critic is not None:
            self._critic.close()
