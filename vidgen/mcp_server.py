"""`vidgen mcp`: the pipeline as Model Context Protocol tools and resources, served over stdio.

A coding agent calls the same library functions the CLI calls (`render.check`, `render.render`,
`loop.run`, `history.*`) through one warm render service kept for the server's life. The work runs
on worker threads; their events become MCP progress notifications, and a cancelled call cancels
its render in the service. Results are the `--json` objects with `"status": "ok"` or `"error"`.
"""

from __future__ import annotations

import base64
import json
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent, ToolAnnotations
from pydantic import Field, WithJsonSchema

from . import __version__, history, loop, render, state, transcript
from . import constraints as constraints_module
from . import critique as critique_module
from . import workspace as workspace_module
from .errors import EXIT_FAILED, Cancelled, StructuredError, UsageError, VidgenError
from .ladder import Events
from .model import client_for
from .session import Session

MAX_STILLS = 24  # images per `stills` call: each one costs the agent's context

INSTRUCTIONS = (
    "vidgen makes videos with Remotion in this workspace. Each video is src/videos/<name>/index.tsx "
    "(export default the component, export const config = {durationInFrames, fps, width, height}). "
    "After writing a video's files, call `check` (the validation ladder) or `render` (the MP4): errors "
    "come back structured (stage, file, line, excerpt). `stills` shows frames as images; `new_video` and "
    "`edit_video` let vidgen's own model write and repair the code. `api_sheet` lists what a video may import."
)

# Arguments checked here rather than by the SDK's schema validation, so a bad one gets vidgen's own
# one-line message saying what to give instead.
Frames = Annotated[
    Any,
    WithJsonSchema({"type": ["array", "null"], "items": {"type": "integer", "minimum": 0}}),
    Field(description="Frame numbers (0 is the first); default: frames spread over the video."),
]
Frame = Annotated[
    Any,
    WithJsonSchema({"type": ["integer", "null"], "minimum": 0}),
    Field(description="Render this one frame as a PNG instead of the video."),
]


class ToolFailed(Exception):
    """A call that did the work and failed: the payload says where (a structured error)."""

    def __init__(self, payload: dict[str, Any]):
        super().__init__(payload.get("error"))
        self.payload = payload


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "status": "ok"}


def failed(message: str, exit_code: int, error: StructuredError | None = None) -> dict[str, Any]:
    """An error as `--json` prints it: the structured error when there is one, else the message."""
    detail = error.to_dict() if error else {"stage": None, "message": message}
    return {"status": "error", "error": detail, "exit_code": exit_code}


def result_payload(data: dict[str, Any], error: StructuredError | None) -> dict[str, Any]:
    """A check, render or loop result (`to_json()`) with the contract's status."""
    if error is None:
        return ok(data)
    return {**data, "status": "error", "error": error.to_dict(), "exit_code": EXIT_FAILED}


def frame_number(value: Any, limit: int, what: str = "frame") -> int:
    """A frame as a whole number from 0 to `limit`; anything else is a UsageError saying what to give."""
    shown = repr(value)[:40]
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what} {shown} is not a frame number: give a whole number from 0, e.g. 0 or 15")
    if not 0 <= value <= limit:
        raise UsageError(f"{what} {shown} is out of range: give a frame from 0 to at most {limit} (the last frame)")
    return value


def frame_list(value: Any, limit: int) -> list[int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise UsageError(f"frames must be a non-empty list of frame numbers, e.g. [0, 15, 29], not {repr(value)[:40]}")
    if len(value) > MAX_STILLS:
        raise UsageError(f"{len(value)} frames asked for: ask for at most {MAX_STILLS} at a time")
    return [frame_number(v, limit) for v in value]


class VidgenTools:
    """The tools and resources over one workspace and one warm session."""

    def __init__(self, session: Session):
        self.session = session
        self.workspace = session.workspace
        self.settings = session.settings
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mcp-tool")
        self.running = 0  # calls under way: a cancel may stop every service request only when one runs
        self.lock = threading.Lock()
        limits = self.settings.limits
        self.max_frame = int(limits.max_seconds * limits.max_fps)

    # ------------------------------------------------------------------ running work

    async def run(self, ctx: Context | None, work: Callable[[Events, list[int]], Any]) -> Any:
        """Run `work(on_event, request_ids)` on a worker thread; events go out as progress.

        If the client cancels the call, the render requests it started are cancelled in the
        service, the next pipeline event raises Cancelled, and the call waits (shielded) for the
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
        future: Future[Any] = self.pool.submit(work, on_event, request_ids)
        sent = 0
        try:
            while not future.done():
                sent = await self._report(ctx, events, sent)
                await anyio.sleep(0.05)
            await self._report(ctx, events, sent)
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
        service = self.session.service
        for request_id in request_ids:
            service.cancel(request_id)
        with self.lock:
            alone = self.running == 1
        if alone:  # the ladder's own requests (stills, bundle) have no id here: stop them all
            service.cancel_all()

    async def _report(self, ctx: Context | None, events: queue.SimpleQueue[tuple[str, dict[str, Any]]], sent: int) -> int:
        while True:
            try:
                kind, data = events.get_nowait()
            except queue.Empty:
                return sent
            message = describe(kind, data)
            if message and ctx is not None:
                sent += 1
                await ctx.report_progress(sent, None, message)

    async def answer(self, ctx: Context | None, work: Callable[[Events, list[int]], Any]) -> CallToolResult:
        """A tool's answer: its payload (and images) or, for any vidgen error, a tool error saying what to do."""
        try:
            payload = await self.run(ctx, work)
        except ToolFailed as exc:
            return _result(exc.payload, is_error=True)
        except Cancelled as exc:
            return _result(failed(str(exc), EXIT_FAILED), is_error=True)
        except VidgenError as exc:
            return _result(failed(str(exc), exc.exit_code), is_error=True)
        except Exception as exc:  # the boundary: the server answers and keeps serving
            return _result(failed(f"internal error: {type(exc).__name__}: {exc}", EXIT_FAILED), is_error=True)
        images: list[Path] = payload.pop("_images", [])
        return _result(payload, is_error=payload.get("status") == "error", images=images)

    def video(self, name: Any) -> workspace_module.Video:
        if not isinstance(name, str):
            raise UsageError("name must be a video name (a string of lowercase letters, digits and hyphens)")
        return self.workspace.existing_video(name)

    # ------------------------------------------------------------------ tools

    async def list_videos(self, ctx: Context) -> CallToolResult:
        """The videos in the workspace and the state of their last check or render."""

        def work(_on_event: Events, _ids: list[int]) -> dict[str, Any]:
            known = state.read(self.workspace)
            videos = [{"name": name, **known.get(name, {"status": "never rendered"})} for name in self.workspace.video_names()]
            return ok({"videos": videos})

        return await self.answer(ctx, work)

    async def check(self, name: str, ctx: Context) -> CallToolResult:
        """Run the validation ladder (imports, lint, typecheck, bundle, composition, stills, layout) without rendering.

        Returns the same object as `vidgen check --json`: on failure `error` has stage, file, line, column, excerpt.
        """

        def work(on_event: Events, _ids: list[int]) -> dict[str, Any]:
            result = render.check(self.session, self.video(name), on_event)
            return result_payload(result.to_json(), result.error)

        return await self.answer(ctx, work)

    async def render(self, name: str, ctx: Context, codec: str | None = None, still: Frame = None) -> CallToolResult:
        """Check and render a video to out/NAME.mp4 (verified, with poster, GIF preview and contact sheet).

        `codec`: h264 (default from vidgen.toml), h265, vp8, vp9, prores or gif. `still`: one frame as a PNG.
        Returns the same object as `vidgen render --json`. Progress notifications carry the stage and frames.
        """
        chosen = codec or self.settings.render.codec
        if chosen not in render.CODECS:
            return _result(failed(f"codec {chosen!r} is not one of {', '.join(render.CODECS)}", 2), is_error=True)

        def work(on_event: Events, ids: list[int]) -> dict[str, Any]:
            frame = None if still is None else frame_number(still, self.max_frame, "still")
            video = self.video(name)
            result = render.render(self.session, video, codec=chosen, still_frame=frame, on_event=on_event, on_request=ids.append)
            return result_payload(result.to_json(), result.error)

        return await self.answer(ctx, work)

    async def stills(self, name: str, ctx: Context, frames: Frames = None) -> CallToolResult:
        """Check a video and return frames as images to look at, and its last contact sheet when there is one."""

        def work(on_event: Events, _ids: list[int]) -> dict[str, Any]:
            wanted = frame_list(frames, self.max_frame)
            video = self.video(name)
            result = render.check(self.session, video, on_event, frames=wanted)
            if result.error is not None:
                raise ToolFailed(result_payload(result.to_json(), result.error))
            shown = sorted(result.stills, key=lambda s: s["frame"])
            sheet = render.default_output(video, "h264").with_name(f"{video.name}.sheet.png")
            images = [Path(s["path"]) for s in shown] + ([sheet] if sheet.is_file() else [])
            return {
                **ok(result.to_json()),
                "stills": [{"frame": s["frame"], "path": str(s["path"])} for s in shown],
                "sheet": str(sheet) if sheet.is_file() else None,
                "_images": images,
            }

        return await self.answer(ctx, work)

    async def new_video(
        self,
        idea: str,
        ctx: Context,
        name: str | None = None,
        seconds: float | None = None,
        size: str | None = None,
        aspect: str | None = None,
    ) -> CallToolResult:
        """Make a new video from an idea: vidgen's model writes it, vidgen checks, renders and repairs it.

        `size` is WIDTHxHEIGHT (e.g. 1280x720) or `aspect` one of 16:9, 9:16, 1:1, 4:5, 4:3.
        Returns the same object as `vidgen new --json` (attempts, usage, the render).
        """

        def work(on_event: Events, ids: list[int]) -> dict[str, Any]:
            if not idea.strip():
                raise UsageError("the idea is empty: describe the video, e.g. 'a bar chart of sales growing'")
            wanted = constraints_module.build(seconds, None, size, aspect, self.settings.limits)
            if name is not None:
                video = self.workspace.video(name)
                if video.folder.exists():
                    raise UsageError(f"video {name!r} exists: change it with edit_video, or choose another name")
            else:
                video = self.workspace.video(workspace_module.name_from_idea(self.workspace, idea))
            return self._loop("new", video, idea.strip(), wanted, on_event)

        return await self.answer(ctx, work)

    async def edit_video(self, name: str, instruction: str, ctx: Context) -> CallToolResult:
        """Change a video as the instruction says, from its files as they are on disk; vidgen's model does the edit."""

        def work(on_event: Events, _ids: list[int]) -> dict[str, Any]:
            if not instruction.strip():
                raise UsageError("the instruction is empty: say what to change, e.g. 'make the title bigger'")
            video = self.video(name)
            return self._loop("edit", video, instruction.strip(), constraints_module.Constraints(), on_event)

        return await self.answer(ctx, work)

    def _loop(
        self, kind: str, video: workspace_module.Video, prompt: str, wanted: constraints_module.Constraints, on_event: Events
    ) -> dict[str, Any]:
        request = loop.Request(kind, video, prompt, wanted, max_repairs=self.settings.model.max_repairs)
        client = client_for(self.settings.model)
        critic = critique_module.critic_for(self.settings, None)
        try:
            outcome = loop.run(self.session, client, request, on_event, critic=critic)
        finally:
            client.close()
            if critic is not None:
                critic.close()
        return result_payload(outcome.to_json(), outcome.error)

    async def history(self, name: str, ctx: Context) -> CallToolResult:
        """Every version of a video vidgen kept: number, time, kind, prompt, status, tokens."""

        def work(_on_event: Events, _ids: list[int]) -> dict[str, Any]:
            versions = history.versions(self.video(name))
            return ok({"name": name, "versions": [{**v.meta, "version": v.number} for v in versions]})

        return await self.answer(ctx, work)

    async def undo(self, name: str, ctx: Context) -> CallToolResult:
        """Put back the previous version of a video (the undo is itself a version: undo again to redo)."""

        def work(_on_event: Events, _ids: list[int]) -> dict[str, Any]:
            version = history.undo(self.video(name))
            return ok({"name": name, "version": version.number, "prompt": version.meta.get("prompt")})

        return await self.answer(ctx, work)

    async def diff(self, name: str, ctx: Context) -> CallToolResult:
        """What changed in a video's files since its previous version, as a unified diff."""

        def work(_on_event: Events, _ids: list[int]) -> dict[str, Any]:
            return ok({"name": name, "diff": history.diff(self.video(name))})

        return await self.answer(ctx, work)

    async def api_sheet(self, ctx: Context) -> CallToolResult:
        """What a video may import (packages and their APIs), as the model is told."""

        def work(_on_event: Events, _ids: list[int]) -> dict[str, Any]:
            return ok({"api_sheet": self.api_text()})

        return await self.answer(ctx, work)

    # ------------------------------------------------------------------ resources

    def api_text(self) -> str:
        path = self.workspace.root / "API.md"
        if not path.is_file():
            raise UsageError(f"{path} is missing: copy it from a fresh `vidgen init` workspace")
        return path.read_text(errors="replace")

    def api_resource(self) -> str:
        return _readable(self.api_text)

    def files_resource(self, name: str) -> str:
        """A video's files on disk, {path: text}; links and special files are left out."""
        return _readable(lambda: json.dumps(history.current_files(self.video(name)), indent=2))

    def error_resource(self, name: str) -> str:
        """A video's last recorded state and the last structured error sent to the model."""

        def read() -> str:
            video = self.video(name)
            entries = transcript.read(video)
            last = next((e["error"] for e in reversed(entries) if e.get("error")), None)
            return json.dumps({"name": name, "state": state.read(self.workspace).get(name), "last_model_error": last}, indent=2)

        return _readable(read)


def _readable(read: Callable[[], str]) -> str:
    """A resource's text; a vidgen error becomes the SDK's resource error, with vidgen's message."""
    try:
        return read()
    except VidgenError as exc:
        raise ResourceError(str(exc)) from None


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


def _result(payload: dict[str, Any], *, is_error: bool, images: list[Path] | None = None) -> CallToolResult:
    content: list[ContentBlock] = [TextContent(type="text", text=json.dumps(payload))]
    for path in images or []:
        mime = "image/png" if path.suffix == ".png" else "image/jpeg"
        content.append(ImageContent(type="image", data=_base64(path), mime_type=mime))
    return CallToolResult(content=content, structured_content=payload, is_error=is_error)


def _base64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def build(tools: VidgenTools) -> MCPServer:
    """The MCP server: every tool and resource bound to `tools`."""
    server: MCPServer = MCPServer("vidgen", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    reading = ToolAnnotations(read_only_hint=True)
    for function, hints in (
        (tools.list_videos, reading),
        (tools.check, None),
        (tools.render, None),
        (tools.stills, None),
        (tools.new_video, None),
        (tools.edit_video, None),
        (tools.history, reading),
        (tools.undo, ToolAnnotations(destructive_hint=False, idempotent_hint=False)),
        (tools.diff, reading),
        (tools.api_sheet, reading),
    ):
        server.add_tool(function, annotations=hints)
    server.resource("vidgen://api-sheet", name="api-sheet", mime_type="text/markdown")(tools.api_resource)
    server.resource("vidgen://videos/{name}/files", name="video-files", mime_type="application/json")(tools.files_resource)
    server.resource("vidgen://videos/{name}/error", name="video-error", mime_type="application/json")(tools.error_resource)
    return server


def serve(session: Session) -> None:
    """Serve over stdio until the client closes it; the worker threads end before the session closes."""
    tools = VidgenTools(session)
    try:
        build(tools).run("stdio")
    finally:
        tools.pool.shutdown(wait=True, cancel_futures=True)
