"""Probing, verifying and previewing rendered videos with ffmpeg (through ffmpeg-python).

No system ffmpeg is needed: ffprobe comes with Remotion's compositor package in the
workspace, and ffmpeg (with the blackdetect and freezedetect filters) with imageio-ffmpeg.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from .errors import UsageError
from .workspace import Workspace

CODEC_NAMES = {"h264": "h264", "vp9": "vp9", "prores": "prores", "gif": "gif"}
EXTENSIONS = {"h264": ".mp4", "vp9": ".webm", "prores": ".mov", "gif": ".gif"}


def ffmpeg_path() -> str:
    configured = os.environ.get("VIDGEN_FFMPEG")
    if configured:
        return configured
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if found:
            return found
    raise UsageError("no ffmpeg found: run `pip install imageio-ffmpeg` (or install ffmpeg and set VIDGEN_FFMPEG)")


def ffprobe_path(workspace: Workspace | None = None) -> str:
    configured = os.environ.get("VIDGEN_FFPROBE")
    if configured:
        return configured
    if workspace is not None:
        compositors = sorted((workspace.root / "node_modules" / "@remotion").glob("compositor-*/ffprobe"))
        if compositors:
            return str(compositors[0])
    found = shutil.which("ffprobe")
    if found:
        return found
    raise UsageError("no ffprobe found: run `npm ci` in the workspace (Remotion ships one) or install ffmpeg")


@dataclass(frozen=True)
class Probe:
    codec: str
    width: int
    height: int
    fps: float
    frames: int
    duration_s: float


def probe(path: Path, workspace: Workspace | None = None) -> Probe:
    info = ffmpeg.probe(str(path), cmd=ffprobe_path(workspace), count_packets=None)
    stream = next(s for s in info["streams"] if s.get("codec_type") == "video")
    num, _, den = stream.get("avg_frame_rate", "0/1").partition("/")
    fps = float(num) / float(den or 1) if float(den or 1) else 0.0
    duration = float(stream.get("duration") or info.get("format", {}).get("duration") or 0)
    frames = int(stream.get("nb_frames") or stream.get("nb_read_packets") or round(duration * fps))
    return Probe(stream["codec_name"], int(stream["width"]), int(stream["height"]), fps, frames, duration)


@dataclass(frozen=True)
class Expected:
    codec: str
    width: int
    height: int
    fps: float
    frames: int


def mismatches(actual: Probe, expected: Expected) -> list[str]:
    """How the file differs from the composition it was rendered from."""
    problems = []
    if actual.codec != CODEC_NAMES[expected.codec]:
        problems.append(f"codec is {actual.codec}, expected {CODEC_NAMES[expected.codec]}")
    if (actual.width, actual.height) != (expected.width, expected.height):
        problems.append(f"size is {actual.width}x{actual.height}, expected {expected.width}x{expected.height}")
    if expected.codec != "gif" and abs(actual.fps - expected.fps) > 0.01:
        problems.append(f"fps is {actual.fps:g}, expected {expected.fps:g}")
    if abs(actual.frames - expected.frames) > 1:
        problems.append(f"has {actual.frames} frames, expected {expected.frames}")
    return problems


_BLACK = re.compile(r"black_start:(?P<start>[\d.]+)\s+black_end:(?P<end>[\d.]+)")
_FREEZE_START = re.compile(r"freeze_start:\s*(?P<start>[\d.]+)")


def blank_or_frozen(path: Path, duration_s: float, fps: float, frames: int) -> str | None:
    """'all black' or 'frozen', when one of them spans the whole video; else None."""
    if frames < 3 or duration_s <= 0:
        return None
    span = max(duration_s - 2.0 / fps, 1.0 / fps)
    stream = (
        ffmpeg.input(str(path))
        .filter("blackdetect", d=span, pix_th=0.10)
        .filter("freezedetect", n=0.001, d=span)
        .output("-", format="null")
    )
    _, stderr = stream.run(cmd=ffmpeg_path(), capture_stdout=True, capture_stderr=True, quiet=True)
    log = stderr.decode(errors="replace")
    for match in _BLACK.finditer(log):
        if float(match["start"]) <= 1.5 / fps and float(match["end"]) >= duration_s - 1.5 / fps:
            return "all black"
    for match in _FREEZE_START.finditer(log):
        if float(match["start"]) <= 1.5 / fps:
            return "frozen: every frame is the same"
    return None


def write_poster(video_path: Path, poster: Path, at_s: float) -> None:
    """One PNG frame from the video, written atomically."""
    partial = poster.with_name(f".{poster.name}.partial.png")
    stream = ffmpeg.input(str(video_path), ss=max(at_s, 0)).output(str(partial), vframes=1).overwrite_output()
    _run_to(stream, partial, poster)


def write_preview_gif(video_path: Path, gif: Path, *, seconds: float = 4.0, width: int = 320, fps: int = 10) -> None:
    """A short, small GIF of the start of the video, with its own palette, written atomically."""
    partial = gif.with_name(f".{gif.name}.partial.gif")
    source = ffmpeg.input(str(video_path), t=seconds).filter("fps", fps=fps).filter("scale", width, -1, flags="lanczos")
    split = source.split()
    palette = split[0].filter("palettegen", stats_mode="diff")
    stream = ffmpeg.filter([split[1], palette], "paletteuse", dither="bayer").output(str(partial), loop=0).overwrite_output()
    _run_to(stream, partial, gif)


def _run_to(stream: ffmpeg.nodes.OutputStream, partial: Path, final: Path) -> None:
    """Run ffmpeg into `partial`, then rename it to `final`; on any failure leave nothing behind."""
    try:
        stream.run(cmd=ffmpeg_path(), quiet=True)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
