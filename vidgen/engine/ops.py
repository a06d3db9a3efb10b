"""The render service's ops as typed methods, whoever serves them: a Node process of this command's own, or the daemon."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .protocol import CheckArgs, LayoutArgs, MetadataArgs, RenderArgs, StillArgs, StillsArgs, TimelineArgs, wire

Progress = Callable[[dict[str, Any]], None]


class ServiceOps:
    """The typed ops of PROTOCOL.md over a transport's `request`: the in-process service or the daemon's."""

    @property
    def pid(self) -> int | None:
        """The process that holds the Node service and its Chromium (this command's, or the daemon's)."""
        raise NotImplementedError

    def request(
        self,
        op: str,
        *,
        timeout_s: float,
        idle_s: float | None = None,
        on_progress: Progress | None = None,
        on_start: Callable[[int], None] | None = None,
        **args: Any,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def cancel(self, request_id: int) -> None:
        raise NotImplementedError

    def pending(self) -> list[int]:
        """The ids of the requests under way."""
        raise NotImplementedError

    def kill(self) -> None:
        """Restart the Node service (its page may still spin after a timeout): the next request starts a new one."""
        raise NotImplementedError

    def abandon(self) -> None:
        """Ctrl-C: give up whatever this command has under way."""
        raise NotImplementedError

    def stop(self) -> None:
        """This command is done with the service."""
        raise NotImplementedError

    def bundle(self, *, timeout_s: float) -> list[dict[str, Any]]:
        """Build every video; the diagnostics of the videos that do not build."""
        return list(self.request("bundle", timeout_s=timeout_s).get("diagnostics", []))

    def lint(self, args: CheckArgs, *, timeout_s: float) -> list[dict[str, Any]]:
        return list(self.request("lint", timeout_s=timeout_s, **wire(args)).get("diagnostics", []))

    def typecheck(self, args: CheckArgs, *, timeout_s: float) -> list[dict[str, Any]]:
        return list(self.request("typecheck", timeout_s=timeout_s, **wire(args)).get("diagnostics", []))

    def metadata(self, args: MetadataArgs, *, timeout_s: float) -> dict[str, Any]:
        """{id, width, height, fps, durationInFrames} of the composition in the newest build."""
        return self.request("metadata", timeout_s=timeout_s, **wire(args))

    def stills(
        self, args: StillsArgs, *, timeout_s: float, idle_s: float | None = None, on_progress: Progress | None = None
    ) -> list[dict[str, Any]]:
        """The stills written, [{frame, path}], each also reported to `on_progress` as it is written."""
        reply = self.request("stills", timeout_s=timeout_s, idle_s=idle_s, on_progress=on_progress, **wire(args))
        return list(reply.get("stills", []))

    def still(self, args: StillArgs, *, timeout_s: float) -> dict[str, Any]:
        return self.request("still", timeout_s=timeout_s, **wire(args))

    def render(
        self,
        args: RenderArgs,
        *,
        timeout_s: float,
        idle_s: float | None = None,
        on_progress: Progress | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        return self.request(
            "render", timeout_s=timeout_s, idle_s=idle_s, on_progress=on_progress, on_start=on_start, **wire(args)
        )

    def layout(self, args: LayoutArgs, *, timeout_s: float, idle_s: float) -> list[dict[str, Any]]:
        """Layout QA's problems at the frames (layout-qa.js's shape)."""
        return list(self.request("layout", timeout_s=timeout_s, idle_s=idle_s, **wire(args)).get("problems", []))

    def timeline(self, args: TimelineArgs, *, timeout_s: float) -> dict[str, Any]:
        """{composition, sequences, frames, complete}: the metadata, and the video's Sequences as timeline.js found them."""
        return self.request("timeline", timeout_s=timeout_s, **wire(args))

    def cancel_all(self) -> None:
        """Cancel every request under way (stills and renders end with Cancelled)."""
        for request_id in self.pending():
            self.cancel(request_id)
