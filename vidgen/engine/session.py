"""What one command shares across its work: the workspace, its settings and the warm service."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import DaemonUnavailable
from ..media import previews
from ..settings import Settings
from ..workspace.project import Workspace
from .client import connect
from .ops import ServiceOps
from .service import COMMAND_CACHE, RenderService


@dataclass
class Session:
    workspace: Workspace
    settings: Settings
    service: ServiceOps
    # Frames are rendered one job at a time: two renders on a small machine only slow each other.
    render_slot: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(1))
    _waited: threading.local = field(default_factory=threading.local)

    @classmethod
    def open(
        cls,
        workspace: Workspace,
        settings: Settings,
        *,
        daemon: bool = False,
        on_note: Callable[[str], None] | None = None,
        cache: str = COMMAND_CACHE,
    ) -> Session:
        """A session on the workspace's render daemon (started if need be) when `daemon` and the settings allow,
        else on a render service of this process's own (as the tests' shared session is), keeping the webpack
        cache named `cache` (a long-lived service beside others in the workspace wants its own)."""
        workspace.require_node_modules()
        if daemon and settings.render.daemon:
            try:
                return cls(workspace, settings, connect(workspace, settings.render))
            except (DaemonUnavailable, OSError) as exc:
                if on_note is not None:
                    on_note(f"{exc}: rendering in this process instead")
        return cls(workspace, settings, RenderService(workspace, settings.render, cache=cache))

    @contextmanager
    def render_turn(self) -> Iterator[None]:
        """Hold the render slot; the time spent waiting for it is kept for this thread."""
        started = time.monotonic()
        with self.render_slot:
            self._waited.seconds = getattr(self._waited, "seconds", 0.0) + time.monotonic() - started
            yield

    def take_waited(self) -> float:
        """Seconds this thread waited for the render slot since the last call."""
        waited = getattr(self._waited, "seconds", 0.0)
        self._waited.seconds = 0.0
        return waited

    def after_render(self, job: previews.PreviewJob) -> Future[str | None]:
        """Make a render's previews off the critical path; the answer is None, or what failed.

        Whoever serves the session makes them one at a time, in the order of the renders: this process's
        service before the command exits; the daemon on its own, so a command that ends first does not wait
        (the previews appear beside the MP4 a second or so later)."""
        return self.service.previews(job)

    def close(self) -> None:
        self.service.stop()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
