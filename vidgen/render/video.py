"""Rendering one video: the ladder, the render, verification, and the atomic move into place.

A render is written under a temporary name, verified, and only then renamed over the
final name: a crash, a Ctrl-C or a failed verification never leaves a truncated file
there, and never deletes the last good render.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from ..check import diagnostics
from ..check.constraints import Constraints
from ..engine.messages import encode_event
from ..engine.processes import process_alive
from ..engine.protocol import RenderArgs, StillArgs
from ..engine.session import Session
from ..errors import Code, ServiceError, ServiceReplyError, Stage, StructuredError, UsageError
from ..media import poster, sheet, sound_sync
from ..media import previews as preview_jobs  # `previews` is render()'s flag
from ..media import probe as media
from ..sound import narration
from ..workspace import history, state
from ..workspace import outputs as renders
from ..workspace.files import atomic_write, move_into_place
from ..workspace.project import GENERATED_FILES, Video, authored
from ..workspace.staging import partial_path, staging_dir
from . import failures, faults, ladder, on_lambda
from .options import RenderOptions, check_size, with_configured_chunks, with_configured_crf
from .result import RenderResult
from .verify import verify_render

CODECS = tuple(media.EXTENSIONS)


def check(
    session: Session,
    video: Video,
    on_event: ladder.Events = ladder.quiet,
    expect: Constraints | None = None,
    frames: list[int] | None = None,
) -> RenderResult:
    """The ladder alone (`vidgen check`); `expect` is the shape the user asked for, `frames` the stills wanted."""
    sources = state.fingerprint(state.sources_of(video))

    def attempt() -> RenderResult:
        checked = ladder.run(session, video, on_event, expect=expect, frames=frames)
        return _checked_result(video, checked, "ok" if checked.ok else "failed")

    result, retried = faults.retry_once(attempt, on_event)
    result.retried = retried
    if result.error:
        _record_failure(session, video, result.error, sources)
    else:
        state.note_warnings(session.workspace, video.name, result.findings, sources)
    return result


def _record_failure(session: Session, video: Video, error: StructuredError, sources: str) -> None:
    """These sources fail: `list` says so until they change (then it says outdated)."""
    state.record(session.workspace, video.name, status="failed", stage=error.stage, message=error.message, sources=sources)


def _checked_result(video: Video, checked: ladder.CheckResult, status: str) -> RenderResult:
    """What the ladder found, as the start of a check's or a render's result."""
    return RenderResult(
        video.name,
        status,
        composition=checked.composition,
        error=checked.error,
        stills=checked.stills,
        timings=dict(checked.timings),
        findings=checked.findings,
    )


def default_output(video: Video, codec: str) -> Path:
    return video.workspace.out_dir / f"{video.name}{media.EXTENSIONS[codec]}"


def render(
    session: Session,
    video: Video,
    *,
    codec: str = "h264",
    output: Path | None = None,
    still_frame: int | None = None,
    previews: bool = True,
    sheet_now: bool = False,
    on_event: ladder.Events = ladder.quiet,
    expect: Constraints | None = None,
    on_request: Callable[[int], None] | None = None,
    still_flag: str = "--still",
    options: RenderOptions | None = None,
    stills: ladder.Stills | None = None,
) -> RenderResult:
    """Check, render, verify and move into place; the result says where it stopped if it failed.

    The MP4 in place ends the work (a "rendered" event says so); its previews are then queued
    with `session.after_render` and `result.previews` answers when they are made. `sheet_now`
    draws the contact sheet before returning, for a caller that looks at it at once (the critique).

    A still frame past the video's end is the user's mistake, not the video's: a UsageError as
    soon as the composition is known, before any frame is drawn, and the video's state is untouched
    (`still_flag` is the option the user gave it with: `render --still` or `still --frame`).
    Only an MP4 (or other video) render changes what `list` says: a still is no render. Each video
    render is kept as the video of the history version its sources are (see workspace/outputs.py).
    A variant (`options`: a frame range, a scale, input props) is written beside the video and kept
    as nothing: `list`, history and the previews stay those of the whole video. `stills`: those drawn
    before the render (default: `stills_before`; `watch` asks for its first).
    """
    asked = with_configured_crf(options or RenderOptions(), session.settings.render.crf, codec)
    variant = still_frame is None and asked.variant

    def check_still(composition: ladder.Composition) -> None:
        if still_frame is not None and still_frame >= composition.frames:
            raise UsageError(
                f"{still_flag} {still_frame} is past the end of {video.name}, whose frames are 0 to {composition.frames - 1}:"
                f" choose one of those"
            )
        limits = session.settings.limits
        asked.frame_range(composition)  # raises when past the end
        asked.check_chunk_count(composition)
        check_size(composition, asked.scale, codec, limits.max_width, limits.max_height)

    files = state.sources_of(video)
    if still_frame is None:
        history.current(video)  # a damaged history or kept render is reported before the work
        renders.check(video)

    def attempt() -> RenderResult:  # the ladder and the render, run again whole after a fault not the video's
        drawn = stills or stills_before(session.settings.render.on)
        checked = ladder.run(session, video, on_event, drawn, expect=expect, on_composition=check_still)
        result = _checked_result(video, checked, "failed")  # "rendered" once the MP4 is in place
        if checked.error is None:
            assert checked.composition is not None
            on_event("stage", {"stage": "render"})
            started = time.monotonic()
            if still_frame is not None:
                target = output or video.workspace.out_dir / f"{video.name}-{still_frame}.png"
                result.error = _render_still(session, video, still_frame, target)
            else:
                target = output or default_output(video, codec)
                if variant and output is None:
                    target = asked.variant_output(target, checked.composition)
                if session.settings.render.on == "lambda":
                    result.error, result.cost = on_lambda.render(
                        session, video, checked.composition, codec, target, on_event, checked.narration, asked
                    )
                else:
                    result.error = _render_video(
                        session, video, checked.composition, codec, target, on_event, checked.narration, on_request, asked
                    )
            result.timings["render"] = round(time.monotonic() - started, 3)
            if result.error is None:
                result.status, result.output = "rendered", target
                if variant:  # --json's size and length are the file's
                    result.composition = asked.expected(checked.composition, codec)
                if still_frame is None:
                    on_event("rendered", {"output": str(target)})
                    preview_jobs.clear(target)  # the previous render's: kept with this one, they would be wrong
                if still_frame is None and checked.narration is not None and asked.frames is None:
                    result.captions = target.with_suffix(".srt")
                    atomic_write(result.captions, narration.srt(checked.narration))
                if still_frame is None and previews and sheet_now and not variant:
                    try:
                        _sample_stills(session, video, target, checked.composition, result)
                        result.sheet = write_sheet(target, checked.composition, result)
                    except OSError:
                        result.sheet = None  # the previews' job draws it again, and says what failed
        return result

    result, retried = faults.retry_once(attempt, on_event)
    result.retried = retried
    sources = state.fingerprint(files)
    if result.error is not None and (result.error.stage in ladder.STAGES or (still_frame is None and not variant)):
        _record_failure(session, video, result.error, sources)
    elif still_frame is None and not variant and result.output is not None:
        result.version, kept = _keep_version(session, video, files, result.output)
        state.record(
            session.workspace,
            video.name,
            status="rendered",
            output=str(result.output),
            sources=sources,
            version=result.version,
            warnings=state.warnings_of(result.findings, sources),
        )
        if previews:
            assert result.composition is not None
            on_event("previews", {})  # not a "stage": a newer save in `watch` does not cancel them
            _queue_previews(session, video, result.composition, result, kept)
    return result


def stills_before(on: str) -> ladder.Stills:
    """The stills a render draws first: here the render is its own pass over the frames; one on Lambda is paid
    for, so a broken frame is found here first, as `check` finds it."""
    return ladder.Stills.SAMPLE if on == "lambda" else ladder.Stills.FAIL_FAST


def _keep_version(session: Session, video: Video, files: dict[str, bytes], output: Path) -> tuple[int | None, Path | None]:
    """The history version the rendered sources are (kept as one if they are new), its MP4 kept with it (or None)."""
    # The generated modules as the sound stage wrote them for this render, not the copies found before it.
    on_disk = state.sources_of(video)
    files = {**authored(files), **{path: data for path, data in on_disk.items() if path in GENERATED_FILES}}
    try:
        version = history.version_for(video, files)
        kept = None
        if output.suffix == ".mp4":
            kept = renders.keep(video, version.number, output, session.settings.render.keep_versions)
    except OSError:
        return None, None  # a full disk: the render in out/ stands, undo just finds no video kept for it
    return version.number, kept


def _queue_previews(
    session: Session, video: Video, composition: ladder.Composition, result: RenderResult, kept: Path | None
) -> None:
    """Hand the render's previews to the session: they are made while the command goes on."""
    assert result.output is not None
    try:
        job = preview_jobs.prepare(
            video.name,
            session.workspace.state_dir,
            result.output,
            (composition.width, composition.height),
            composition.fps,
            composition.frames,
            result.stills,
            sample=_sample(session, composition),
            marks=sheet.marks_of(result.findings),
            make=tuple(kind for kind in preview_jobs.KINDS if kind != "sheet" or result.sheet is None),
            kept=kept,
        )
    except OSError as exc:  # a full disk: the render stands without previews
        result.previews = preview_jobs.refused(video.name, session.workspace.state_dir, exc)
        return
    paths = job.paths()
    result.poster, result.preview = paths.get("poster"), paths.get("preview")
    result.sheet = result.sheet or paths.get("sheet")
    result.previews = session.after_render(job)


def _sample(session: Session, composition: ladder.Composition) -> list[int]:
    """The frames the contact sheet shows, spread over the video."""
    return ladder.sample_frames(composition.frames, session.settings.render.sample_stills)


def _sample_stills(session: Session, video: Video, target: Path, composition: ladder.Composition, result: RenderResult) -> None:
    """The sample's frames as stills, taken from the rendered file in one decode (a render draws none before it)."""
    folder = session.workspace.state_dir / "stills" / video.name
    if not result.stills:  # the stills there are an earlier check's
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    shown = {int(still["frame"]) for still in result.stills}
    taken = poster.write_frames(target, [frame for frame in _sample(session, composition) if frame not in shown], folder)
    result.stills += [{"frame": frame, "path": str(path)} for frame, path in taken.items()]
    result.stills.sort(key=lambda still: int(still["frame"]))


def remove_stale_partials(folder: Path) -> None:
    """Temporary renders left by a vidgen that was killed outright (its process is gone)."""
    for path in folder.glob(".*.partial-*"):
        match = re.search(r"\.partial-(\d+)", path.name)
        if match and not process_alive(int(match[1])):
            path.unlink(missing_ok=True)


def _render_video(
    session: Session,
    video: Video,
    composition: ladder.Composition,
    codec: str,
    target: Path,
    on_event: ladder.Events,
    timeline: narration.Timeline | None = None,
    on_request: Callable[[int], None] | None = None,
    asked: RenderOptions | None = None,
) -> StructuredError | None:
    settings = session.settings.render
    asked = with_configured_chunks(asked or RenderOptions(), settings.chunks, codec, composition, os.cpu_count())
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(staging_dir(video))
    partial = partial_path(video, target)
    try:
        try:
            with session.render_turn():
                session.service.render(
                    RenderArgs(
                        name=video.name,
                        output=str(partial),
                        codec=codec,
                        timeout_ms=int(settings.frame_timeout_s * 1000),
                        concurrency=settings.concurrency or None,
                        **asked.wire(composition),
                    ),
                    timeout_s=settings.render_timeout_s,
                    idle_s=settings.frame_timeout_s + 15,
                    on_progress=lambda event: on_event("progress", encode_event(event)),
                    on_start=on_request,
                )
        except ServiceReplyError as exc:
            if exc.fault.kind == "disk-full":
                return _disk_full(video, target)
            if exc.fault.kind == "usage":  # the service refused an argument: the command's mistake, not the video's
                raise UsageError(exc.fault.message) from None
            return failures.runtime_failure(Stage.RENDER, video, session, exc.fault)
        except ServiceError as exc:
            return failures.service_failure(Stage.RENDER, video, exc, session)
        sound_sync.align(partial, video.workspace)  # Remotion's sound comes 43 ms late (media/sound_sync.py)
        on_event("stage", {"stage": Stage.VERIFY})
        # The file is checked against what was asked: a scaled size, a frame range's length.
        error = verify_render(video, partial, asked.expected(composition, codec), codec, timeline, asked.frames is None)
        if error:
            return error
        move_into_place(partial, target)
        return None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return _disk_full(video, target)
        raise
    finally:
        partial.unlink(missing_ok=True)
        for chunk in partial.parent.glob(f"{partial.name}.chunk-*"):  # a chunked render's, if its service died
            chunk.unlink(missing_ok=True)


def _render_still(session: Session, video: Video, frame: int, target: Path) -> StructuredError | None:
    timeout = session.settings.render.frame_timeout_s
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(video, target)
    try:
        session.service.still(StillArgs(video.name, frame, str(partial), int(timeout * 1000)), timeout_s=timeout + 30)
        move_into_place(partial, target)
        return None
    except ServiceReplyError as exc:
        return failures.runtime_failure(Stage.RENDER, video, session, exc.fault)
    except ServiceError as exc:
        return failures.service_failure(Stage.RENDER, video, exc, session)
    finally:
        partial.unlink(missing_ok=True)


def write_sheet(target: Path, composition: ladder.Composition, result: RenderResult) -> Path | None:
    """out/<name>.sheet.png from the ladder's stills now, for a caller that cannot wait for the previews' job.

    The frames of the result's findings (layout QA, critique) are shown, outlined, their elements boxed.
    """
    started = time.monotonic()
    written = sheet.write(
        result.stills,
        target.with_name(f"{target.stem}.sheet.png"),
        composition.width,
        composition.height,
        composition.fps,
        marks=sheet.marks_of(result.findings),
        video=target,
    )
    result.timings["sheet"] = round(time.monotonic() - started, 3)
    return written


def _disk_full(video: Video, target: Path) -> StructuredError:
    return diagnostics.make(
        Stage.RENDER,
        f"the disk is full while writing {target.name}: free space on that disk and render again"
        " (the previous render is untouched)",
        video,
        code=Code.DISK_FULL,
    )
