"""`vidgen mcp`: the pipeline as Model Context Protocol tools and resources, served over stdio.

A coding agent calls the same library functions the CLI calls (`render.check`, `render.render`,
`loop.run`, `history.*`) through one warm render service kept for the server's life. The work runs
on worker threads (`mcp_calls`): their events become progress notifications, and a cancelled call
cancels its render in the service. Results are the `--json` objects with `"status": "ok"` or `"error"`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field, ValidationError, WithJsonSchema

from .. import __version__
from ..agent import critique as critique_module
from ..agent import loop
from ..check import constraints as constraints_module
from ..engine.session import Session
from ..errors import EXIT_USAGE, UsageError, VidgenError
from ..model.client import client_for
from ..render import video as render
from ..render.ladder import Events
from ..workspace import history, state, transcript
from ..workspace import outputs as renders
from ..workspace import project as workspace_module
from ..workspace.history import Version  # (the class's `history` tool shadows the module in its annotations)
from .calls import Answer, Calls, failed, ok, outcome, tool_result

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


def frame_number(value: Any, limit: int, what: str = "frame") -> int:
    """A frame as a whole number from 0 to `limit`; anything else is a UsageError saying what to give."""
    shown = repr(value)[:40]
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what} {shown} is not a frame number: give a whole number from 0, e.g. 0 or 15")
    if not 0 <= value <= limit:
        raise UsageError(f"{what} {shown} is out of range: give a frame from 0 up to the video's last frame (at most {limit})")
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
        self.calls = Calls(session.service)
        limits = self.settings.limits
        self.max_frame = int(limits.max_seconds * limits.max_fps)
        self.previews: dict[str, Future[str | None]] = {}  # each video's last render's previews, being made

    def video(self, name: Any) -> workspace_module.Video:
        if not isinstance(name, str):
            raise UsageError("name must be a video name (a string of lowercase letters, digits and hyphens)")
        return self.workspace.existing_video(name)

    # ------------------------------------------------------------------ tools

    async def list_videos(self, ctx: Context) -> CallToolResult:
        """The videos in the workspace and the state of their last check or render."""

        def work(_on_event: Events, _ids: list[int]) -> Answer:
            known = state.read(self.workspace)
            videos = [{"name": name, **known.get(name, {"status": "never rendered"})} for name in self.workspace.video_names()]
            return ok({"videos": videos})

        return await self.calls.answer(ctx, work)

    async def check(self, name: str, ctx: Context) -> CallToolResult:
        """Run the validation ladder (imports, lint, typecheck, bundle, composition, stills, layout) without rendering.

        Returns the same object as `vidgen check --json`: on failure `error` has stage, file, line, column, excerpt.
        """

        def work(on_event: Events, _ids: list[int]) -> Answer:
            result = render.check(self.session, self.video(name), on_event)
            return outcome(result.to_json(), result.error)

        return await self.calls.answer(ctx, work, measured=True)

    async def render(self, name: str, ctx: Context, codec: str | None = None, still: Frame = None) -> CallToolResult:
        """Check and render a video to out/NAME.mp4 (verified, with poster, GIF preview and contact sheet).

        `codec`: h264 (default from vidgen.toml), vp9, prores or gif. `still`: one frame as a PNG.
        Returns the same object as `vidgen render --json`. Progress notifications carry the stage and frames.
        The answer comes once the video is in place: `previews` is "pending" while the poster, GIF and sheet
        are made (`stills` waits for that sheet).
        """

        def work(on_event: Events, ids: list[int]) -> Answer:
            chosen = codec or self.settings.render.codec
            if chosen not in render.CODECS:
                raise UsageError(f"codec {chosen!r} is not one of {', '.join(render.CODECS)}: e.g. h264")
            frame = None if still is None else frame_number(still, self.max_frame, "still")
            video = self.video(name)
            result = render.render(self.session, video, codec=chosen, still_frame=frame, on_event=on_event, on_request=ids.append)
            if result.previews is not None:
                self.previews[video.name] = result.previews
            return outcome(result.to_json(), result.error)

        return await self.calls.answer(ctx, work, measured=True)

    async def stills(self, name: str, ctx: Context, frames: Frames = None) -> CallToolResult:
        """Check a video and return frames as images to look at, and its last contact sheet when there is one."""

        def work(on_event: Events, _ids: list[int]) -> Answer:
            wanted = frame_list(frames, self.max_frame)
            video = self.video(name)
            result = render.check(self.session, video, on_event, frames=wanted)
            if result.error is not None:
                return outcome(result.to_json(), result.error)
            shown = sorted(result.stills, key=lambda s: s["frame"])
            made = self.previews.pop(video.name, None)
            if made is not None:
                made.result()  # the last render's contact sheet: render answered before it was drawn
            sheet = render.default_output(video, "h264").with_name(f"{video.name}.sheet.png")
            images = [Path(s["path"]) for s in shown] + ([sheet] if sheet.is_file() else [])
            stills = [{"frame": s["frame"], "path": str(s["path"])} for s in shown]
            return ok({**result.to_json(), "stills": stills, "sheet": str(sheet) if sheet.is_file() else None}, images)

        return await self.calls.answer(ctx, work, measured=True)

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

        def work(on_event: Events, ids: list[int]) -> Answer:
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

        return await self.calls.answer(ctx, work)

    async def edit_video(self, name: str, instruction: str, ctx: Context) -> CallToolResult:
        """Change a video as the instruction says, from its files as they are on disk; vidgen's model does the edit."""

        def work(on_event: Events, _ids: list[int]) -> Answer:
            if not instruction.strip():
                raise UsageError("the instruction is empty: say what to change, e.g. 'make the title bigger'")
            video = self.video(name)
            return self._loop("edit", video, instruction.strip(), constraints_module.Constraints(), on_event)

        return await self.calls.answer(ctx, work)

    def _loop(
        self, kind: str, video: workspace_module.Video, prompt: str, wanted: constraints_module.Constraints, on_event: Events
    ) -> Answer:
        request = loop.Request(kind, video, prompt, wanted, max_repairs=self.settings.model.max_repairs)
        client = client_for(self.settings.model)
        critic = critique_module.critic_for(self.settings, None)
        try:
            result = loop.run(self.session, client, request, on_event, critic=critic)
        finally:
            client.close()
            if critic is not None:
                critic.close()
        return outcome(result.to_json(), result.error)

    async def history(self, name: str, ctx: Context) -> CallToolResult:
        """Every version of a video vidgen kept, as `vidgen history --json`: number, time, kind, prompt, status,
        tokens, whether it is the current one and whether its video is kept."""

        def work(_on_event: Events, _ids: list[int]) -> Answer:
            return ok({"name": name, "versions": renders.version_rows(self.video(name))})

        return await self.calls.answer(ctx, work)

    async def undo(self, name: str, ctx: Context) -> CallToolResult:
        """Go back one version of a video: its files, and its video when one is kept (no render), as `vidgen undo`."""
        return await self._move(name, ctx, history.undo)

    async def redo(self, name: str, ctx: Context) -> CallToolResult:
        """Go forward one version after an undo, as `vidgen redo`."""
        return await self._move(name, ctx, history.redo)

    async def _move(self, name: str, ctx: Context, move: Callable[[workspace_module.Video], Version]) -> CallToolResult:
        def work(_on_event: Events, _ids: list[int]) -> Answer:
            version, restored = renders.step(self.video(name), move)
            video = str(restored) if restored is not None else None
            return ok({"name": name, "version": version.number, "prompt": version.meta.get("prompt"), "video": video})

        return await self.calls.answer(ctx, work)

    async def diff(self, name: str, ctx: Context) -> CallToolResult:
        """What changed in a video's files since its previous version, as a unified diff."""

        def work(_on_event: Events, _ids: list[int]) -> Answer:
            return ok({"name": name, "diff": history.diff(self.video(name))})

        return await self.calls.answer(ctx, work)

    async def api_sheet(self, ctx: Context) -> CallToolResult:
        """What a video may import (packages and their APIs), as the model is told."""

        def work(_on_event: Events, _ids: list[int]) -> Answer:
            return ok({"api_sheet": self.api_text()})

        return await self.calls.answer(ctx, work)

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


class _Server(MCPServer):
    """The SDK's server, with arguments its schema check refuses answered like any vidgen error: one line
    saying which argument and what to give (the SDK's own is a multi-line report with a web link)."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            problems = "; ".join(_argument_problem(error) for error in exc.__cause__.errors())
            return tool_result(Answer(failed(f"{name}: {problems}", EXIT_USAGE, "usage")))


def _argument_problem(error: Any) -> str:
    """One refused argument: its name and what is wrong, without the value (the caller's data)."""
    where = ".".join(str(part) for part in error.get("loc", ())) or "arguments"
    if error.get("type") == "missing":
        return f"the argument {where!r} is missing"
    return f"the argument {where!r} is wrong: {str(error.get('msg', 'not valid')).lower()}"


def build(tools: VidgenTools) -> MCPServer:
    """The MCP server: every tool and resource bound to `tools`."""
    server: MCPServer = _Server("vidgen", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
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
        (tools.redo, ToolAnnotations(destructive_hint=False, idempotent_hint=False)),
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
        tools.calls.close()
