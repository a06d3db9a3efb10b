"""The validation ladder: (sound →) imports → lint → typecheck → bundle → composition → stills → layout.

Each stage is cheaper than the next and the ladder stops at the first failure, which it
returns as one StructuredError. `vidgen check` runs it alone; every render runs it first.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import diagnostics, imports, layout, music, narration
from .constraints import Constraints, config_line
from .errors import Finding, ServiceError, StructuredError
from .service import ServiceReplyError
from .session import Session
from .settings import Limits
from .workspace import Video

STAGES = ("imports", "lint", "typecheck", "bundle", "composition", "stills", "layout")
_TOOL_TIMEOUT_S = 180
Events = Callable[[str, dict[str, Any]], None]


def quiet(_kind: str, _data: dict[str, Any]) -> None:
    return None


@dataclass
class Composition:
    width: int
    height: int
    fps: float
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps if self.fps else 0.0


@dataclass
class CheckResult:
    error: StructuredError | None = None
    composition: Composition | None = None
    stills: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    narration: narration.Timeline | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run(
    session: Session,
    video: Video,
    on_event: Events = quiet,
    stills: bool = True,
    expect: Constraints | None = None,
    on_composition: Callable[[Composition], None] | None = None,
    frames: list[int] | None = None,
) -> CheckResult:
    """Run the stages in order until one fails; the result says which, or carries the metadata.

    `on_composition` sees the composition as soon as it is known, before the stills: it may
    raise (a UsageError for a flag the video cannot honour) to stop before any frame is drawn.
    `frames` are the stills to render instead of the evenly spread sample (`vidgen mcp`'s `stills`).

    Once the imports are known to be safe, lint, typecheck and bundle start together (the
    service checks in a worker thread while webpack bundles), but their verdicts are still
    taken in ladder order, so the error reported is always the first stage's.
    """
    result = CheckResult()
    pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="ladder")
    ahead: dict[str, Future[StructuredError | None]] = {}
    try:

        def start_ahead() -> StructuredError | None:
            error = imports.check(video)
            if error is None:
                ahead["lint"] = pool.submit(_tool_stage, session, video, "lint")
                ahead["typecheck"] = pool.submit(_tool_stage, session, video, "typecheck")
                ahead["bundle"] = pool.submit(_bundle, session, video)
            return error

        stages: list[tuple[str, Callable[[], StructuredError | None]]] = []
        if narration.wanted(video) or music.find(video):
            stages.append(("sound", lambda: _sound(session, video, result)))
        stages += [
            ("imports", start_ahead),
            ("lint", lambda: ahead["lint"].result()),
            ("typecheck", lambda: ahead["typecheck"].result()),
            ("bundle", lambda: ahead["bundle"].result()),
            ("composition", lambda: _composition(session, video, result, expect, on_composition)),
        ]
        if stills:
            stages.append(("stills", lambda: _stills(session, video, result, on_event, frames)))
            if session.settings.qa.enabled:
                stages.append(("layout", lambda: _layout(session, video, result)))
        _run_stages(session, video, stages, result, on_event)
    except KeyboardInterrupt:
        session.service.kill()  # Ctrl-C: abandon what runs ahead with the service
        raise
    finally:
        # A stage that failed early leaves the later ones running: their answers are not needed.
        pool.shutdown(wait=False, cancel_futures=True)
    return result


def _run_stages(
    session: Session,
    video: Video,
    stages: list[tuple[str, Callable[[], StructuredError | None]]],
    result: CheckResult,
    on_event: Events,
) -> None:
    for stage, step in stages:
        on_event("stage", {"stage": stage})
        started = time.monotonic()
        try:
            error = step()
        except ServiceError as exc:
            error = service_failure(stage, video, exc, session)
        result.timings[stage] = round(time.monotonic() - started, 3)
        if error is not None:
            result.error = error
            on_event("failed", {"stage": stage, "error": error})
            return


def _sound(session: Session, video: Video, result: CheckResult) -> StructuredError | None:
    """Speak narration.json and write narration.ts and music.ts, before anything reads the code importing them."""
    if narration.wanted(video):
        prepared = narration.prepare(video, session.settings.voice, session.workspace.state_dir / "voice")
        if isinstance(prepared, StructuredError):
            return prepared
        result.narration = prepared
    music.prepare(video, result.narration)
    return None


def _first_in_video(video: Video, stage: str, found: list[dict[str, Any]]) -> StructuredError | None:
    for diagnostic in found:
        if diagnostics.in_video(video, diagnostic.get("file")) or not diagnostic.get("file"):
            return diagnostics.from_diagnostic(stage, video, diagnostic)
    return None


def _tool_stage(session: Session, video: Video, op: str) -> StructuredError | None:
    files = [str(p) for p in video.source_files()]
    reply = session.service.request(op, timeout_s=_TOOL_TIMEOUT_S, files=files)
    return _first_in_video(video, op, reply.get("diagnostics", []))


def _bundle(session: Session, video: Video) -> StructuredError | None:
    reply = session.service.request("bundle", timeout_s=_TOOL_TIMEOUT_S)
    videos_root = video.workspace.root / "src" / "videos"
    for diagnostic in reply.get("diagnostics", []):
        file = diagnostic.get("file")
        # Errors in another video are that video's business; errors outside every video
        # (the template itself) stop everything.
        if diagnostics.in_video(video, file) or not file or not diagnostics.is_within(videos_root, file):
            return diagnostics.from_bundle(video, diagnostic)
    return None


def _composition(
    session: Session,
    video: Video,
    result: CheckResult,
    expect: Constraints | None,
    on_composition: Callable[[Composition], None] | None = None,
) -> StructuredError | None:
    timeout = session.settings.render.frame_timeout_s
    try:
        meta = session.service.request("metadata", timeout_s=timeout + 30, name=video.name, timeoutMs=int(timeout * 1000))
    except ServiceReplyError as exc:
        return runtime_failure("composition", video, session, exc.error)
    composition = Composition(int(meta["width"]), int(meta["height"]), float(meta["fps"]), int(meta["durationInFrames"]))
    problem = limits_problem(composition, session.settings.limits)
    if problem is None and result.narration is not None:
        problem = narration.length_problem(result.narration, composition.frames)
    if problem is None and expect is not None:
        problem = expect.mismatch(composition.width, composition.height, composition.fps, composition.frames)
    if problem:
        return diagnostics.make("composition", problem, video, file=video.entry, line=config_line(video.entry, problem))
    result.composition = composition
    if on_composition is not None:
        on_composition(composition)
    return None


def limits_problem(c: Composition, limits: Limits) -> str | None:
    """Why the composition's metadata cannot be rendered, or None."""
    if c.width <= 0 or c.height <= 0 or c.width % 2 or c.height % 2:
        return f"config width and height must be even and positive (got {c.width}x{c.height}): e.g. 1280x720"
    if c.width > limits.max_width or c.height > limits.max_height:
        return f"config size {c.width}x{c.height} is over the limit {limits.max_width}x{limits.max_height} set in vidgen.toml [limits]"
    if not 1 <= c.fps <= limits.max_fps:
        return f"config fps must be between 1 and {limits.max_fps} (got {c.fps:g}): e.g. 30"
    if c.frames < 1:
        return f"config durationInFrames must be at least 1 (got {c.frames}): e.g. {int(c.fps * 3)} for 3 seconds"
    if c.duration_s > limits.max_seconds:
        return (
            f"config durationInFrames {c.frames} is {c.duration_s:g}s at {c.fps:g} fps, over the {limits.max_seconds:g}s"
            " limit in vidgen.toml [limits] max_seconds: shorten the video"
        )
    return None


def sample_frames(frames: int, count: int) -> list[int]:
    """`count` frames spread evenly from the first to the last, first frame first."""
    if frames <= 0:
        return []
    count = max(1, min(count, frames))
    if count == 1:
        return [0]
    return sorted({round(i * (frames - 1) / (count - 1)) for i in range(count)})


def _stills(
    session: Session, video: Video, result: CheckResult, on_event: Events, wanted: list[int] | None = None
) -> StructuredError | None:
    assert result.composition is not None
    settings = session.settings.render
    last = result.composition.frames - 1
    if wanted and max(wanted) > last:
        beyond = [str(f) for f in sorted(set(wanted)) if f > last]
        which = f"frames {', '.join(beyond)} are" if len(beyond) > 1 else f"frame {beyond[0]} is"
        return diagnostics.make("stills", f"{which} past the last frame of {video.name}: ask for frames 0 to {last}", video)
    frames = sorted(set(wanted)) if wanted else sample_frames(result.composition.frames, settings.sample_stills)
    folder = session.workspace.state_dir / "stills" / video.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)

    def progress(event: dict[str, Any]) -> None:
        if event.get("path"):
            result.stills.append({"frame": event["frame"], "path": event["path"]})
            on_event("still", {"frame": event["frame"], "path": event["path"]})

    try:
        with session.render_turn():
            session.service.request(
                "stills",
                timeout_s=settings.render_timeout_s,
                idle_s=settings.frame_timeout_s + 15,
                on_progress=progress,
                name=video.name,
                frames=frames,
                outputDir=str(folder),
                timeoutMs=int(settings.frame_timeout_s * 1000),
            )
    except ServiceReplyError as exc:
        return runtime_failure("stills", video, session, exc.error)
    return None


def _layout(session: Session, video: Video, result: CheckResult) -> StructuredError | None:
    # After the stills, never beside them: pages of one site share a renderer process in
    # Chromium, so a frame that hangs in one page would stall the other and blur which failed.
    assert result.composition is not None
    composition = result.composition
    frames = sample_frames(composition.frames, layout.sample_count(composition.frames, composition.fps, session.settings.qa))
    try:
        result.findings = layout.inspect(session, video, frames, composition.duration_s / len(frames))
    except ServiceReplyError as exc:
        return runtime_failure("layout", video, session, exc.error)
    return layout.first_error(video, result.findings)


def runtime_failure(stage: str, video: Video, session: Session, error: dict[str, Any]) -> StructuredError:
    """An error thrown while rendering; after a timeout the page may still spin, so restart."""
    if diagnostics.is_timeout(error):
        session.service.kill()
    if error.get("kind") == "browser-crashed":
        # Not the code's fault as far as anyone knows: no stack to point into; the service opens
        # a new browser for the next request.
        return diagnostics.make(stage, str(error.get("message")), video, frame=error.get("frame"))
    return diagnostics.from_runtime(stage, video, error)


def service_failure(stage: str, video: Video, exc: ServiceError, session: Session) -> StructuredError:
    if exc.kind == "timeout":
        frame = f"frame {exc.frame}" if exc.frame is not None else "a frame"
        message = (
            f"{frame} did not finish within {session.settings.render.frame_timeout_s:g}s: an endless loop or a"
            " delayRender() that is never cleared; the render service was restarted"
        )
        return diagnostics.make(stage, message, video, frame=exc.frame)
    return diagnostics.make(stage, str(exc), video, frame=exc.frame)
