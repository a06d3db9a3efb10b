"""A render's previews (contact sheet, poster, GIF), made after its MP4 is in place, from one self-contained job.

A job is plain values (the render daemon receives it as JSON and runs it in its own process).
It holds its own links of the rendered video and of the ladder's stills, in a folder of its own:
the next save's ladder replaces the stills and the next render replaces the MP4, so a job run
late still draws its own render. Each preview is made in that folder, then linked beside the
video in out/ and beside its kept version in .vidgen/renders/, each only while that file is
still this render: an older job never gives its previews to a newer render. Jobs of one
workspace run one at a time, in the order they take its lock. A failure is one line in
.vidgen/previews.log and the job's answer; it never touches the video or the other previews.
Run with the service's gate, a job yields to the service's requests: its ffmpeg is paused and its
Pillow steps wait while any runs (yielding.py), so the previews never slow the next render.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import ffmpeg

from ..errors import parse_box
from ..workspace import outputs as renders
from ..workspace.files import exclusive
from . import poster, sheet
from .yielding import Gate

# In the order they are made: the cheapest and most looked at first.
KINDS = ("sheet", "poster", "preview")
SUFFIXES = {"sheet": ".sheet.png", "poster": ".poster.png", "preview": ".preview.gif"}
LOG = "previews.log"
LOG_LIMIT = 256 * 1024  # then the log starts again, the previous one kept as previews.log.1
STALE_S = 3600  # a job folder this old was left by a process that was killed


@dataclass(frozen=True)
class PreviewJob:
    """Everything needed to make a render's previews, as plain values (see `to_json`)."""

    name: str
    state_dir: str  # the workspace's .vidgen: the log, the lock, the job folders
    folder: str  # the job's own folder: its links of the video and stills, the previews made there (removed after)
    video: str  # the job's link of the rendered video
    target: str  # the rendered file in place (out/<name>.mp4): previews go beside it
    target_stamp: tuple[int, ...]  # that file's identity when it was rendered (see `stamp`)
    width: int
    height: int
    fps: float
    frames: int
    stills: tuple[tuple[int, str], ...]  # (frame, path in the job's folder)
    # The frames the sheet and the poster look at: those no still shows are taken from the video first
    # (a render draws no stills before it: its own frames are the pass over the video).
    sample: tuple[int, ...] = ()
    marks: tuple[sheet.Mark, ...] = ()  # the findings: their frames are shown and outlined on the sheet
    make: tuple[str, ...] = KINDS
    kept: str | None = None  # .vidgen/renders/<name>/v<N>.mp4 when the render is kept as a version
    kept_stamp: tuple[int, ...] = ()

    def paths(self) -> dict[str, Path]:
        """Where each preview lands beside the rendered file (they exist once the job is done)."""
        target = Path(self.target)
        return {kind: target.with_name(target.stem + SUFFIXES[kind]) for kind in self.make}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PreviewJob:
        """The job `to_json` gave, after a trip through JSON (lists back to tuples)."""
        return cls(
            **{
                **data,
                "target_stamp": tuple(int(n) for n in data["target_stamp"]),
                "kept_stamp": tuple(int(n) for n in data.get("kept_stamp", ())),
                "stills": tuple((int(frame), str(path)) for frame, path in data["stills"]),
                "sample": tuple(int(frame) for frame in data.get("sample", ())),
                "marks": tuple(_mark(mark) for mark in data.get("marks", ())),
                "make": tuple(str(kind) for kind in data.get("make", KINDS)),
            }
        )


def _mark(data: dict[str, Any]) -> sheet.Mark:
    return sheet.Mark(int(data["frame"]), int(data["last_frame"]), parse_box(data.get("box")), str(data.get("kind") or "finding"))


def stamp(path: Path) -> tuple[int, ...]:
    """A file's identity: a render replaces the file by rename, so a newer render has another one; () when absent."""
    try:
        info = path.stat()
    except OSError:
        return ()
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def prepare(
    name: str,
    state_dir: Path,
    target: Path,
    size: tuple[int, int],
    fps: float,
    frames: int,
    stills: list[dict[str, Any]],
    *,
    sample: list[int] | None = None,
    marks: list[sheet.Mark] | None = None,
    make: tuple[str, ...] = KINDS,
    kept: Path | None = None,
) -> PreviewJob:
    """The job for the render now at `target`: links of it and of its stills, taken before the next render can start."""
    jobs = state_dir / "previews"
    jobs.mkdir(parents=True, exist_ok=True)
    _remove_stale(jobs)
    folder = Path(tempfile.mkdtemp(dir=jobs, prefix=f"{name}."))
    try:
        video = folder / f"video{target.suffix}"
        renders.link(target, video)
        own_stills = []
        for still in stills:
            path = Path(still["path"])
            if path.is_file():
                renders.link(path, folder / path.name)
                own_stills.append((int(still["frame"]), str(folder / path.name)))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return PreviewJob(
        name=name,
        state_dir=str(state_dir),
        folder=str(folder),
        video=str(video),
        target=str(target),
        target_stamp=stamp(target),
        width=size[0],
        height=size[1],
        fps=fps,
        frames=frames,
        stills=tuple(own_stills),
        sample=tuple(sample or ()),
        marks=tuple(marks or ()),
        # A GIF render is its own preview; a sheet needs frames to show.
        make=tuple(
            kind for kind in make if (kind, target.suffix) != ("preview", ".gif") and (kind != "sheet" or own_stills or sample)
        ),
        kept=str(kept) if kept else None,
        kept_stamp=stamp(kept) if kept else (),
    )


def clear(target: Path) -> None:
    """Remove the previews beside `target`: a new render there makes them another render's (better none than wrong)."""
    for suffix in SUFFIXES.values():
        try:
            target.with_name(target.stem + suffix).unlink(missing_ok=True)
        except OSError:
            continue  # a folder in the way: the job will say it cannot put that preview there


def run(job: PreviewJob, gate: Gate | None = None) -> str | None:
    """Make the job's previews, yielding to requests through `gate` when given; None when all were made, else
    the one line that says what failed. Never raises."""
    started = time.monotonic()
    problems: list[str] = []
    try:
        with turn(Path(job.state_dir)):
            made = _make_all(_with_sample(job, problems, gate), problems, gate) if _places(job) else []
    except Exception as exc:  # the lock or the job folder: whatever it is, the video stands
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        problems.append(f"the previews could not start: {_detail(exc)}{where}")
        made = []
    finally:
        shutil.rmtree(job.folder, ignore_errors=True)
    state_dir = Path(job.state_dir)
    if not problems:
        done = ", ".join(made) or "nothing (newer renders replaced this one)"
        _log(state_dir, job.name, f"made {done} in {time.monotonic() - started:.2f}s")
        return None
    for problem in problems:
        _log(state_dir, job.name, problem)
    return _answer(job.name, state_dir, problems)


def refused(name: str, state_dir: Path, exc: OSError) -> Future[str | None]:
    """The answer for previews whose job could not even be prepared (a full disk): logged, and finished at once."""
    problem = f"its previews could not be prepared: {_detail(exc)}"
    _log(state_dir, name, problem)
    future: Future[str | None] = Future()
    future.set_result(_answer(name, state_dir, [problem]))
    return future


def _answer(name: str, state_dir: Path, problems: list[str]) -> str:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return (
        f"{name}: {problems[0]}{more}; the video is in place, and the log is"
        f" {state_dir / LOG}: fix that and render again for its previews"
    )


def _with_sample(job: PreviewJob, problems: list[str], gate: Gate | None) -> PreviewJob:
    """The job with its sample frames that no still shows taken from its video, in one decode, as stills."""
    shown = {frame for frame, _path in job.stills}
    missing = [frame for frame in job.sample if frame not in shown]
    if not missing:
        return job
    folder = Path(job.folder) / "sample"
    try:
        folder.mkdir(exist_ok=True)
        taken = poster.write_frames(Path(job.video), missing, folder, gate)
    except Exception as exc:  # ffmpeg's errors vary: the sheet shows what else it has, the poster falls back
        problems.append(f"its frames could not be taken from the video: {_detail(exc)}")
        return job
    stills = sorted([*job.stills, *((frame, str(path)) for frame, path in taken.items())])
    return replace(job, stills=tuple(stills))


def _make_all(job: PreviewJob, problems: list[str], gate: Gate | None) -> list[str]:
    made = []
    for kind in job.make:
        if not _places(job):
            break  # newer renders replaced this one everywhere: nobody would see these previews
        try:
            path = _MAKERS[kind](job, Path(job.folder) / f"{kind}{SUFFIXES[kind]}", gate)
        except Exception as exc:  # ffmpeg's and PIL's errors vary; each preview fails alone
            problems.append(f"the {kind} could not be made: {_detail(exc)}")
            continue
        if path is None:
            continue
        for place in _places(job):  # looked at again: a render may have landed while this one was made
            try:
                renders.link(path, place.with_name(place.stem + SUFFIXES[kind]))
            except OSError as exc:
                problems.append(f"the {kind} could not be put beside {place.name}: {_detail(exc)}")
        made.append(kind)
    return made


def _places(job: PreviewJob) -> list[Path]:
    """The rendered file and its kept version, those still holding this render."""
    places = [Path(job.target)] if stamp(Path(job.target)) == job.target_stamp else []
    if job.kept and job.kept_stamp and stamp(Path(job.kept)) == job.kept_stamp:
        places.append(Path(job.kept))
    return places


def _sheet(job: PreviewJob, path: Path, gate: Gate | None) -> Path | None:
    stills = [{"frame": frame, "path": still} for frame, still in job.stills]
    return sheet.write(stills, path, job.width, job.height, job.fps, marks=job.marks, video=Path(job.video), gate=gate)


def _poster(job: PreviewJob, path: Path, gate: Gate | None) -> Path:
    stills = [(frame, Path(still)) for frame, still in job.stills]
    frame = poster.poster_frame(Path(job.video), stills, job.frames, (job.width, job.height), gate)
    # A quarter frame early: ffmpeg drops frames stamped before the seek point, and the last
    # frame of the video has no later one to fall back on.
    at_s = max(0.0, (frame - 0.25) / job.fps) if frame is not None else job.frames / job.fps / 2
    poster.write_poster(Path(job.video), path, at_s, gate)
    return path


def _preview(job: PreviewJob, path: Path, gate: Gate | None) -> Path:
    poster.write_preview_gif(Path(job.video), path, gate=gate)
    return path


_MAKERS = {"sheet": _sheet, "poster": _poster, "preview": _preview}


@contextmanager
def turn(state_dir: Path) -> Iterator[None]:
    """One job of a workspace at a time, whichever process runs it (a command, the daemon); jobs wait while held."""
    with exclusive(state_dir / "previews.lock"):
        yield


def _detail(exc: Exception) -> str:
    """The last line of what went wrong (ffmpeg's own last line of stderr), never a file's content."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "the disk is full: free space on it"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror  # without the temporary paths str() would add
    text = exc.stderr.decode(errors="replace") if isinstance(exc, ffmpeg.Error) and exc.stderr else str(exc)
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else type(exc).__name__


def _log(state_dir: Path, name: str, line: str) -> None:
    log = state_dir / LOG
    try:
        if log.is_file() and log.stat().st_size > LOG_LIMIT:
            os.replace(log, log.with_name(LOG + ".1"))
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {name}: {line}\n")
    except OSError:
        pass  # a full disk: the answer still says what failed


def _remove_stale(jobs: Path) -> None:
    cutoff = time.time() - STALE_S
    for folder in jobs.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
