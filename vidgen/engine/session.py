"""What one command shares across its work: the workspace, its settings and the warm service."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import DaemonUnavailable
from ..media import previews
from ..settings import Settings
from ..workspace.project import Workspace
from .client import RemoteService, connect
from .ops import ServiceOps
from .service import RenderService


@dataclass
class Session:
    workspace: Workspace
    settings: Settings
    service: ServiceOps
    # Frames are rendered one job at a time: two renders on a small machine only slow each other.
    render_slot: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(1))
    _waited: threading.local = field(default_factory=threading.local)
    # Previews are made one job at a time, in the order of their renders, beside the next render's ladder.
    _previews: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="previews")
    )

    @classmethod
    def open(
        cls,
        workspace: Workspace,
        settings: Settings,
        *,
        daemon: bool = False,
        on_note: Callable[[str], None] | None = None,
        cache: str = "command",
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

        On the daemon the daemon makes them, and a command that ends first does not wait: its answer
        stays pending (the previews appear beside the MP4 a second or so later)."""
        if isinstance(self.service, RemoteService):
            return self.service.previews(job.to_json())
        return self._previews.submit(previews.run, job)

    def close(self) -> None:
        try:
            self.service.stop()  # previews need no service: its browser's memory is free while they finish
        finally:
            self._previews.shutdown(wait=True)  # a command never exits with half a GIF

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
