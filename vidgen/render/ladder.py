"""The validation ladder: (sound →) imports → lint → typecheck → bundle → composition → stills → layout.

Each stage is cheaper than the next and the ladder stops at the first failure, which it
returns as one StructuredError. `vidgen check` runs it alone; every render runs it first.
The stages are one ordered list, LADDER: adding a stage is adding one LadderStage to it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..check import checked, diagnostics, imports, layout
from ..check.constraints import Constraints, config_line, limits_problem
from ..engine.messages import Composition, Diagnostic, Event, StillProgress
from ..engine.protocol import CheckArgs, StillsArgs
from ..engine.session import Session
from ..errors import Code, Finding, ServiceError, ServiceFault, ServiceReplyError, Stage, StructuredError
from ..sound import music, narration
from ..workspace.project import Video
from . import failures, timeline

_TOOL_TIMEOUT_S = 180
# Loading a build's page (every video's modules) before its first frame: a fixed cost that a busy machine
# stretches (another command's render on both cores took it past 6 s), so not held to a frame's timeout.
_PAGE_LOAD_TIMEOUT_S = 30.0
Events = Callable[[str, dict[str, Any]], None]


def quiet(_kind: str, _data: dict[str, Any]) -> None:
    return None


class Stills(StrEnum):
    """Which frames the stills stage draws before the video is rendered whole (or not at all)."""

    SAMPLE = "sample"  # `check`: the evenly spread sample, or the frames asked for
    # A render's: its own frames are the pass (the sheet's are taken from the file), so only a long one with
    # layout QA off (whose pages show frames first) draws its first, middle and last frame, to fail fast.
    FAIL_FAST = "fail-fast"
    FIRST = "first"  # `watch`'s render: frame 0 first, a look at the save within a second, then the render
    NONE = "none"  # up to the composition: no frame drawn, no layout QA


FAIL_FAST_FROM_S = 10.0  # below it a render reaches any frame within seconds: drawing some first saves nothing


@dataclass
class CheckResult:
    error: StructuredError | None = None
    composition: Composition | None = None
    stills: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    narration: narration.Timeline | None = None
    skipped: list[str] = field(default_factory=list)  # stages not run: their sources passed them unchanged

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Context:
    """One run of the ladder: what every stage reads, and the result the stages fill in."""

    session: Session
    video: Video
    result: CheckResult
    on_event: Events
    expect: Constraints | None
    stills: Stills
    on_composition: Callable[[Composition], None] | None = None  # may raise to stop before any frame
    frames: list[int] | None = None  # the stills wanted, instead of the evenly spread sample
    read: Future[timeline.Read | None] | None = None  # the composition's page, opened once the bundle passed
    reading: timeline.Reading = field(default_factory=lambda: timeline.Reading())


ErrorReply = Callable[[Context, Stage, ServiceFault], StructuredError]


def _runtime_reply(context: Context, stage: Stage, fault: ServiceFault) -> StructuredError:
    return failures.runtime_failure(stage, context.video, context.session, fault)


def _checker_reply(context: Context, stage: Stage, fault: ServiceFault) -> StructuredError:
    """The checker or the bundler itself failed (not the code): say so, and that checking again helps."""
    crashed = fault.kind == "checker-crashed"
    code = Code.SERVICE_CRASHED if crashed else None
    return diagnostics.make(stage, f"{stage} could not run: {fault.message}", context.video, code=code, infra=crashed)


@dataclass(frozen=True)
class LadderStage:
    """One rung: what it runs, and how a failure of the service while running it becomes its error.

    `check` returns the stage's error, or None when the video passes. A stage that is `ahead`
    needs only the imports to be safe, not the verdicts before it: a run of such stages starts
    together (the service checks in a child process while webpack bundles), and their verdicts
    are still taken in ladder order, so the error reported is always the first stage's.
    A timeout or crash of the service (ServiceError) becomes the same error in every stage.
    """

    stage: Stage
    check: Callable[[Context], StructuredError | None]
    on_reply: ErrorReply = _runtime_reply  # the service answered the request with an error
    ahead: bool = False
    applies: Callable[[Context], bool] = lambda _context: True
    # Its verdict depends only on what checked.key() hashes: skipped when those passed it unchanged.
    skippable: bool = False


def run(
    session: Session,
    video: Video,
    on_event: Events = quiet,
    stills: Stills = Stills.SAMPLE,
    expect: Constraints | None = None,
    on_composition: Callable[[Composition], None] | None = None,
    frames: list[int] | None = None,
) -> CheckResult:
    """Run the stages in order until one fails; the result says which, or carries the metadata.

    `on_composition` sees the composition as soon as it is known, before the stills: it may
    raise (a UsageError for a flag the video cannot honour) to stop before any frame is drawn.
    `frames` are the stills to render instead of the evenly spread sample (`vidgen mcp`'s `stills`).
    """
    context = Context(session, video, CheckResult(), on_event, expect, stills, on_composition, frames)
    stages = list(LADDER)
    pool = ThreadPoolExecutor(max_workers=1 + sum(s.ahead for s in stages), thread_name_prefix="ladder")
    ahead: dict[Stage, Future[StructuredError | None]] = {}
    sources: str | None = None  # checked.key() of the sources, taken once, before the first skippable stage runs
    passed: set[Stage] = set()
    try:
        for index, stage in enumerate(stages):
            if not stage.applies(context):  # asked when its turn comes: some depend on the composition
                continue
            if stage.skippable and sources is None:
                sources = checked.key(video)
                if checked.is_current(video, sources):
                    context.result.skipped = [str(s.stage) for s in stages if s.skippable]
            if stage.stage in context.result.skipped:
                context.result.timings[stage.stage] = 0.0
                on_event("skipped", {"stage": stage.stage, "reason": "unchanged since it last passed"})
                continue
            on_event("stage", {"stage": stage.stage})
            started = time.monotonic()
            if stage.ahead:
                if stage.stage not in ahead:  # the first of a run of ahead stages: start the whole run
                    for later in _ahead_run(stages, index, context.result.skipped):
                        ahead[later.stage] = pool.submit(_attempt, later, context)
                    if Stage.BUNDLE in ahead and context.read is None and _read_early(context):
                        context.read = pool.submit(_read_when_built, context, ahead[Stage.BUNDLE])
                error = ahead[stage.stage].result()
            else:
                error = _attempt(stage, context)
            context.result.timings[stage.stage] = round(time.monotonic() - started, 3)
            if error is not None:
                context.result.error = error
                on_event("failed", {"stage": stage.stage, "error": error})
                break
            passed.add(stage.stage)
        skippable = {stage.stage for stage in stages if stage.skippable}
        if sources is not None and skippable and skippable <= passed:
            checked.remember(video, sources)  # the key taken before they ran: an edit during the run is checked next time
    except KeyboardInterrupt:
        session.service.abandon()  # Ctrl-C: give up what runs ahead
        raise
    finally:
        # A stage that failed early leaves the later ones running: their answers are not needed.
        if context.read is not None:
            context.reading.stop(session)  # never read: the composition's page closes
        pool.shutdown(wait=False, cancel_futures=True)
    return context.result


def _ahead_run(stages: list[LadderStage], index: int, skipped: list[str]) -> list[LadderStage]:
    """The ahead stages from `index` on, up to the first that is not, less the skipped ones."""
    run = []
    for stage in stages[index:]:
        if not stage.ahead:
            break
        if stage.stage not in skipped:
            run.append(stage)
    return run


def _attempt(stage: LadderStage, context: Context) -> StructuredError | None:
    """Run one stage; a failure of the service becomes the stage's error like any other."""
    try:
        return stage.check(context)
    except ServiceReplyError as exc:
        return stage.on_reply(context, stage.stage, exc.fault)
    except ServiceError as exc:
        return failures.service_failure(stage.stage, context.video, exc, context.session)


def _first_in_video(video: Video, stage: Stage, found: list[Diagnostic]) -> StructuredError | None:
    for diagnostic in found:
        if diagnostics.in_video(video, diagnostic.file) or not diagnostic.file:
            return diagnostics.from_diagnostic(stage, video, diagnostic)
    return None


def _lint(context: Context) -> StructuredError | None:
    found = context.session.service.lint(CheckArgs(_source_files(context.video)), timeout_s=_TOOL_TIMEOUT_S)
    return _first_in_video(context.video, Stage.LINT, found)


def _typecheck(context: Context) -> StructuredError | None:
    found = context.session.service.typecheck(CheckArgs(_source_files(context.video)), timeout_s=_TOOL_TIMEOUT_S)
    return _first_in_video(context.video, Stage.TYPECHECK, found)


def _source_files(video: Video) -> list[str]:
    return [str(path) for path in video.source_files()]


def _bundle(context: Context) -> StructuredError | None:
    return bundle_error(context.session, context.video)


def bundle_error(session: Session, video: Video) -> StructuredError | None:
    """The bundle stage's verdict on one video: its own build error, or one outside every video."""
    videos_root = video.workspace.root / "src" / "videos"
    for diagnostic in session.service.bundle(timeout_s=_TOOL_TIMEOUT_S):
        file = diagnostic.file
        # Errors in another video are that video's business; errors outside every video
        # (the template itself) stop everything.
        if diagnostics.in_video(video, file) or not file or not diagnostics.is_within(videos_root, file):
            return diagnostics.from_bundle(video, diagnostic)
    return None


def _keeps_page(context: Context) -> bool:
    """The timeline's page serves what comes right after it: a watch's first still, then (as for a render,
    whose short videos draw no stills first: _render_frames) layout QA."""
    return context.stills is Stills.FIRST or (context.stills is Stills.FAIL_FAST and context.session.settings.qa.enabled)


def _read(context: Context) -> timeline.Read:
    session = context.session
    timeout = max(session.settings.render.frame_timeout_s, _PAGE_LOAD_TIMEOUT_S)
    keep = _keeps_page(context)
    return timeline.read(session, context.video, timeout, keep, on_start=lambda sent: context.reading.sent(session, sent))


def _read_early(context: Context) -> bool:
    """Whether the composition is read before lint and typecheck answered: only through a `timeline` request,
    which a cancel closes at once (a `metadata` page cannot be cancelled, and left running by code lint
    rejects, an endless loop there would hold up the pages after it, which share its renderer process)."""
    return timeline.asks_timeline(context.video, _keeps_page(context))


def _read_when_built(context: Context, built: Future[StructuredError | None]) -> timeline.Read | None:
    """The composition read once the bundle passed (None: it failed, or the ladder stopped first)."""
    return None if built.result() is not None or context.reading.stopped else _read(context)


def _composition(context: Context) -> StructuredError | None:
    session, video, expect = context.session, context.video, context.expect
    early, context.read = context.read, None  # taken: no longer the ladder's to cancel
    composition, sequences = (early.result() if early is not None else None) or _read(context)
    problem = limits_problem(composition, session.settings.limits)
    if problem is None and context.result.narration is not None:
        problem = narration.length_problem(context.result.narration, composition.frames)
    if problem is None and expect is not None:
        problem = expect.mismatch(composition.width, composition.height, composition.fps, composition.frames)
    if problem:
        line = config_line(video.entry, problem)
        return diagnostics.make(Stage.COMPOSITION, problem, video, file=video.entry, line=line)
    cut = timeline.problem(video, sequences, composition.frames)  # a scene the composition's length cuts off
    if cut is not None:
        return cut
    context.result.composition = composition
    if context.on_composition is not None:
        context.on_composition(composition)
    return None


def sample_frames(frames: int, count: int) -> list[int]:
    """`count` frames spread evenly from the first to the last, first frame first."""
    if frames <= 0:
        return []
    count = max(1, min(count, frames))
    if count == 1:
        return [0]
    return sorted({round(i * (frames - 1) / (count - 1)) for i in range(count)})


def _render_frames(context: Context) -> list[int] | None:
    """The stills a render draws before it (FAIL_FAST: none when it is short or layout QA shows frames first)."""
    composition = context.result.composition
    assert composition is not None
    if context.stills is Stills.FIRST:
        return [0]
    if context.session.settings.qa.enabled or composition.duration_s < FAIL_FAST_FROM_S:
        return []
    return sample_frames(composition.frames, 3)


def _draws_stills(context: Context) -> bool:
    return context.stills is Stills.SAMPLE or (context.stills is not Stills.NONE and bool(_render_frames(context)))


def _stills(context: Context) -> StructuredError | None:
    session, video, result, on_event = context.session, context.video, context.result, context.on_event
    assert result.composition is not None
    settings = session.settings.render
    if context.stills is not Stills.SAMPLE:
        context.frames = _render_frames(context)
    last, wanted = result.composition.frames - 1, context.frames
    if wanted and max(wanted) > last:
        beyond = [str(f) for f in sorted(set(wanted)) if f > last]
        which = f"frames {', '.join(beyond)} are" if len(beyond) > 1 else f"frame {beyond[0]} is"
        problem = f"{which} past the last frame of {video.name}: ask for frames 0 to {last}"
        return diagnostics.make(Stage.STILLS, problem, video, code=Code.USAGE)  # the asker's mistake, not the video's
    frames = sorted(set(wanted)) if wanted else sample_frames(result.composition.frames, settings.sample_stills)
    folder = session.workspace.state_dir / "stills" / video.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)

    def progress(event: Event) -> None:
        if isinstance(event, StillProgress) and event.path is not None:
            result.stills.append({"frame": event.frame, "path": event.path})
            on_event("still", {"frame": event.frame, "path": event.path})

    with session.render_turn():
        session.service.stills(
            StillsArgs(video.name, frames, str(folder), int(settings.frame_timeout_s * 1000)),
            timeout_s=settings.render_timeout_s,
            idle_s=settings.frame_timeout_s + 15,
            on_progress=progress,
        )
    return None


def _sound(context: Context) -> StructuredError | None:
    """Speak narration.json and write narration.ts and music.ts, before anything reads the code importing them."""
    video, result = context.video, context.result
    if narration.wanted(video):
        prepared = narration.prepare(video, context.session.settings.voice, context.session.workspace.state_dir / "voice")
        if isinstance(prepared, StructuredError):
            return prepared
        result.narration = prepared
    music.prepare(video, result.narration)
    return None


def _has_sound(context: Context) -> bool:
    return narration.wanted(context.video) or music.find(context.video) is not None


def _layout(context: Context) -> StructuredError | None:
    # After the stills, never beside them: pages of one site share a renderer process in
    # Chromium, so a frame that hangs in one page would stall the other and blur which failed.
    session, video, result = context.session, context.video, context.result
    assert result.composition is not None
    composition = result.composition
    frames = sample_frames(composition.frames, layout.sample_count(composition.frames, composition.fps, session.settings.qa))
    result.findings = layout.inspect(session, video, frames, composition.duration_s / len(frames))
    return layout.first_error(video, result.findings)


# The ladder, in order. A new stage is one entry here: its Stage member (errors.py), the check
# it runs, and, if the service's error replies mean something else than "the video threw", how
# they become its error.
LADDER: tuple[LadderStage, ...] = (
    LadderStage(Stage.SOUND, _sound, applies=_has_sound),
    LadderStage(Stage.IMPORTS, lambda context: imports.check(context.video)),
    LadderStage(Stage.LINT, _lint, on_reply=_checker_reply, ahead=True, skippable=True),
    LadderStage(Stage.TYPECHECK, _typecheck, on_reply=_checker_reply, ahead=True, skippable=True),
    LadderStage(Stage.BUNDLE, _bundle, on_reply=_checker_reply, ahead=True),
    # Not ahead (its verdict comes after lint's and typecheck's), but its page opens once the bundle passed,
    # and is cancelled if they fail: `_read_early`, `timeline.Reading`.
    LadderStage(Stage.COMPOSITION, _composition),
    LadderStage(Stage.STILLS, _stills, applies=_draws_stills),
    LadderStage(
        Stage.LAYOUT, _layout, applies=lambda context: context.stills is not Stills.NONE and context.session.settings.qa.enabled
    ),
)
STAGES = tuple(stage.stage for stage in LADDER)
