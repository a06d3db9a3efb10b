"""The render service's ops as typed methods, over one client implementation, whoever serves them: a Node process
of this command's own (service.py) or the daemon (client.py). Both send a request, then wait here for its events
and its one answer, each wait bounded by a deadline."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ..media.previews import PreviewJob
from .messages import (
    Composition,
    Diagnostic,
    Event,
    LayoutProblem,
    MountedSequence,
    Queued,
    Timeline,
    decode_event,
    raise_error,
)
from .protocol import CheckArgs, LayoutArgs, MetadataArgs, RenderArgs, StillArgs, StillsArgs, TimelineArgs, wire
from .transport import END, Requests, Waiting

Progress = Callable[[Event], None]


class ServiceOps:
    """The typed ops of docs/protocol.md over one request/wait implementation; a transport supplies the hooks
    below (how a request is framed and sent, what a missed deadline or the end of the stream means)."""

    # How long past the request's own time its answer may take: the daemon times a request out itself,
    # then restarts its service, so its answer comes after the request's time.
    deadline_margin_s = 0.0

    def __init__(self) -> None:
        self.requests = Requests()

    @property
    def pid(self) -> int | None:
        """The process that holds the Node service and its Chromium (this command's, or the daemon's)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the transport's hooks

    def start(self) -> None:
        """Make sure there is someone to send to (the in-process service starts Node on first use)."""

    def _frame(self, waiting: Waiting, op: str, args: dict[str, Any], timeout_s: float, idle_s: float | None) -> dict[str, Any]:
        raise NotImplementedError

    def _send(self, op: str, message: dict[str, Any]) -> None:
        """Send a framed request; raise ServiceError when the other end is gone."""
        raise NotImplementedError

    def _expired(self, op: str, waiting: Waiting, waited_s: float, last: Event | None) -> Exception:
        """The error of a request that missed its deadline (after making the other end drop it)."""
        raise NotImplementedError

    def _ended(self, op: str, last: Event | None) -> Exception:
        """The error of a request whose stream ended before its answer."""
        raise NotImplementedError

    def cancel(self, request_id: int) -> None:
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

    def previews(self, job: PreviewJob) -> Future[str | None]:
        """Make a render's previews off the critical path; the answer is None, or what failed."""
        raise NotImplementedError

    # ------------------------------------------------------------------ one request

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
        """Send one request and wait for its result; its events go to `on_progress`.

        The transport under the typed methods below (use those: they name the wire keys). A request that
        takes longer than `timeout_s`, or goes `idle_s` without an event, ends with the transport's
        `_expired` error (the in-process service is killed, to be restarted by the next request); a
        stream that ends, with `_ended`'s; an error answer raises as `messages.raise_error` says.
        """
        self.start()
        waiting = self.requests.open()
        try:
            self._send(op, self._frame(waiting, op, args, timeout_s, idle_s))
            if on_start is not None:
                # The id `cancel` takes (`vidgen mcp` and the daemon cancel one request, not all), once the
                # request is sent: a cancel sent before it would be dropped.
                on_start(waiting.id)
            return self.wait(op, waiting, timeout_s=timeout_s, idle_s=idle_s, on_progress=on_progress)
        except KeyboardInterrupt:
            self.abandon()  # Ctrl-C: whatever the service was doing for this command is abandoned with it
            raise
        finally:
            self.requests.close(waiting)

    def wait(
        self, op: str, waiting: Waiting, *, timeout_s: float, idle_s: float | None = None, on_progress: Progress | None = None
    ) -> dict[str, Any]:
        """The answer of a sent request, its events passed on; every wait ends by its deadline."""
        whole_s = timeout_s + self.deadline_margin_s
        quiet_s = (idle_s or timeout_s) + self.deadline_margin_s
        now = time.monotonic()
        deadline, idle_deadline = now + whole_s, now + quiet_s
        last: Event | None = None
        while True:
            remaining = min(deadline, idle_deadline) - time.monotonic()
            if remaining <= 0:
                raise self._expired(op, waiting, whole_s if time.monotonic() >= deadline else quiet_s, last) from None
            try:
                message = waiting.replies.get(timeout=min(remaining, 0.5))
            except queue.Empty:  # look at the clock again (and Ctrl-C is noticed at least twice a second)
                continue
            if message is END:
                raise self._ended(op, last)
            if "event" in message:
                event = decode_event(message)
                now = time.monotonic()
                if isinstance(event, Queued):  # waiting for its turn: its own time has not begun
                    deadline = now + whole_s
                elif event is not None:
                    last = event
                idle_deadline = now + quiet_s
                if event is not None and on_progress is not None:
                    on_progress(event)
                continue
            if "error" in message:
                raise_error(message["error"], op)
            result = message.get("result")
            return dict(result) if isinstance(result, dict) else {}

    def pending(self) -> list[int]:
        """The ids of the requests under way."""
        return self.requests.ids()

    def cancel_all(self) -> None:
        """Cancel every request under way (stills and renders end with Cancelled)."""
        for request_id in self.pending():
            self.cancel(request_id)

    # ------------------------------------------------------------------ the ops

    def bundle(self, *, timeout_s: float) -> list[Diagnostic]:
        """Build every video; the diagnostics of the videos that do not build."""
        return Diagnostic.list_from(self.request("bundle", timeout_s=timeout_s))

    def lint(self, args: CheckArgs, *, timeout_s: float) -> list[Diagnostic]:
        return Diagnostic.list_from(self.request("lint", timeout_s=timeout_s, **wire(args)))

    def typecheck(self, args: CheckArgs, *, timeout_s: float) -> list[Diagnostic]:
        return Diagnostic.list_from(self.request("typecheck", timeout_s=timeout_s, **wire(args)))

    def metadata(self, args: MetadataArgs, *, timeout_s: float, on_start: Callable[[int], None] | None = None) -> Composition:
        """The composition in the newest build."""
        return Composition.from_wire(self.request("metadata", timeout_s=timeout_s, on_start=on_start, **wire(args)))

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

    def layout(self, args: LayoutArgs, *, timeout_s: float, idle_s: float) -> list[LayoutProblem]:
        """Layout QA's problems at the frames."""
        return LayoutProblem.list_from(self.request("layout", timeout_s=timeout_s, idle_s=idle_s, **wire(args)))

    def timeline(self, args: TimelineArgs, *, timeout_s: float, on_start: Callable[[int], None] | None = None) -> Timeline:
        """The composition, and the video's Sequences as timeline.js found them."""
        reply = self.request("timeline", timeout_s=timeout_s, on_start=on_start, **wire(args))
        return Timeline(
            Composition.from_wire(reply.get("composition")),
            MountedSequence.list_from(reply.get("sequences")),
            reply.get("complete") is True,
        )
