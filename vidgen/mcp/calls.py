"""One MCP tool call: its work on a worker thread, its events as progress, cancellation, its answer.

The pipeline is synchronous and reports through `on_event(kind, data)`; an MCP server is async.
A call runs the work in a thread pool, turns the events into progress notifications, and when the
client cancels it, cancels the call's render requests in the warm service and waits for the worker
to end. The answer is the `--json` object with `"status": "ok"` or `"error"`, as a tool result.
"""

from __future__ import annotations

import base64
import json
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent

from ..engine.ops import ServiceOps
from ..errors import EXIT_FAILED, EXIT_USAGE, Cancelled, Code, Stage, StructuredError, VidgenError
from ..render.ladder import STAGES, Events


@dataclass
class Answer:
    """What a tool's work returns: the JSON object, and images to show after it."""

    payload: dict[str, Any]
    images: list[Path] = field(default_factory=list)


# The work of one call: given the event sink and a list to put its render request ids in.
Work = Callable[[Events, list[int]], Answer]


def ok(payload: dict[str, Any], images: list[Path] | None = None) -> Answer:
    return Answer({**payload, "status": "ok"}, images or [])


def failed(message: str, exit_code: int, code: str) -> dict[str, Any]:
    """A call that could not run (a bad argument, a model error), as `--json` prints it: status "error"."""
    return {"status": "error", "error": {"stage": None, "message": message, "code": code}, "exit_code": exit_code}


def outcome(data: dict[str, Any], error: StructuredError | None) -> Answer:
    """A check, render or loop result (its `to_json()`) with the contract's status: "failed" when the work
    ran and failed, as on the command line."""
    if error is None:
        return ok(data)
    if error.code == Code.USAGE:  # asked for what cannot be (a frame past the end): it could not run
        return Answer({**data, "status": "error", "error": error.to_dict(), "exit_code": EXIT_USAGE})
    return Answer({**data, "status": "failed", "error": error.to_dict(), "exit_code": EXIT_FAILED})


def describe(kind: str, data: dict[str, Any]) -> str | None:
    """A pipeline event as one progress message (stage, frames, model turn); None for the noise."""
    if kind == "stage":
        return f"stage {data['stage']}"
    if kind == "still":
        return f"still frame {data['frame']}"
    if kind == "progress" and data.get("stage") == "render":
        total = data.get("frames") or "?"
        return f"render: {data.get('renderedFrames', 0)}/{total} frames rendered, {data.get('encodedFrames', 0)} encoded"
    if kind == "model":
        return f"model: {data['kind']} (turn {data['attempt']})"
    if kind == "attempt" and data.get("error") is not None:
        return f"turn {data['attempt']} failed: {data['error'].one_line()}"
    if kind == "model-status" and data.get("status") == "retry":
        return f"model: retrying in {data.get('delay_s')}s"
    return None


class Calls:
    """Runs tool calls against one render service; a cancel stops only what its own call started."""

    def __init__(self, service: ServiceOps, workers: int = 4):
        self.service = service
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mcp-tool")
        self.running = 0
        self.lock = threading.Lock()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    async def answer(self, ctx: Context | None, work: Work, *, measured: bool = False) -> CallToolResult:
        """The call's answer; any vidgen error is a tool error saying what to do, and the server keeps serving.

        `measured`: the work is one check or render, so its progress is a share of 100 (a model's loop of
        repairs has no known end: its progress only counts)."""
        try:
            answer = await self.run(ctx, work, Progress(total=100.0 if measured else None))
        except VidgenError as exc:  # Cancelled too: a newer call or the server stopping it
            return tool_result(Answer(failed(str(exc), exc.exit_code, exc.code)))
        except Exception as exc:  # the boundary: one line, like the CLI's
            return tool_result(Answer(failed(f"internal error: {type(exc).__name__}: {exc}", EXIT_FAILED, "internal")))
        return tool_result(answer)

    async def run(self, ctx: Context | None, work: Work, progress: Progress | None = None) -> Answer:
        """Run `work(on_event, request_ids)` on a worker thread; its events go out as progress.

        If the client cancels the call, the render requests it started are cancelled in the
        service, its next pipeline event raises Cancelled, and the call waits (shielded) for the
        worker to end, so nothing it started outlives it.
        """
        events: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        cancelled = threading.Event()
        request_ids: list[int] = []

        def on_event(kind: str, data: dict[str, Any]) -> None:
            if cancelled.is_set():
                raise Cancelled("cancelled by the client")
            events.put((kind, data))

        with self.lock:
            self.running += 1
        future: Future[Answer] = self.pool.submit(work, on_event, request_ids)
        progress = progress or Progress()
        try:
            while not future.done():
                await _report(ctx, events, progress)
                await anyio.sleep(0.05)
            await _report(ctx, events, progress)
            return future.result()
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            self._cancel(request_ids)
            with anyio.CancelScope(shield=True):
                while not future.done():
                    await anyio.sleep(0.05)
            raise
        finally:
            with self.lock:
                self.running -= 1

    def _cancel(self, request_ids: list[int]) -> None:
        for request_id in request_ids:
            self.service.cancel(request_id)
        with self.lock:
            alone = self.running == 1
        if alone:  # the ladder's own requests (stills, bundle) carry no id out: with no other call, stop them all
            self.service.cancel_all()


# A check's or a render's way through, for its progress as a share: the ladder's stages, then the render's.
_ORDER: tuple[str, ...] = (*STAGES, Stage.RENDER, Stage.VERIFY)


@dataclass
class Progress:
    """A call's progress value (MCP wants it to grow with every notification) and its total, when known."""

    total: float | None = None
    value: float = 0.0

    def advance(self, kind: str, data: dict[str, Any]) -> float:
        if self.total is None:
            self.value += 1.0
            return self.value
        share = _share(kind, data)
        self.value = max(self.value + 0.001, share * self.total if share is not None else 0.0)
        return self.value


def _share(kind: str, data: dict[str, Any]) -> float | None:
    """How far through a check or render an event is (0 to 1), when it says."""
    stage = data.get("stage")
    if stage not in _ORDER:
        return None
    done = _ORDER.index(stage)
    if kind == "progress" and stage == Stage.RENDER and isinstance(data.get("progress"), (int, float)):
        return (done + min(1.0, max(0.0, float(data["progress"])))) / len(_ORDER)
    return done / len(_ORDER) if kind == "stage" else None


async def _report(ctx: Context | None, events: queue.SimpleQueue[tuple[str, dict[str, Any]]], progress: Progress) -> None:
    """Send the events queued so far as progress notifications."""
    while True:
        try:
            kind, data = events.get_nowait()
        except queue.Empty:
            return
        message = describe(kind, data)
        if message and ctx is not None:
            await ctx.report_progress(progress.advance(kind, data), progress.total, message)


def tool_result(answer: Answer) -> CallToolResult:
    """The JSON object as text and as structured content, then the images; an error status marks a tool error."""
    content: list[ContentBlock] = [TextContent(type="text", text=json.dumps(answer.payload))]
    for path in answer.images:
        data = base64.b64encode(path.read_bytes()).decode()
        content.append(ImageContent(type="image", data=data, mime_type="image/png" if path.suffix == ".png" else "image/jpeg"))
    is_error = answer.payload.get("status") in ("error", "failed")
    return CallToolResult(content=content, structured_content=answer.payload, is_error=is_error)
