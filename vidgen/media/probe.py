"""Probing rendered videos and media files with ffmpeg (through ffmpeg-python): streams, size, length, sound.

No system ffmpeg is needed: ffprobe comes with Remotion's compositor package in the
workspace, and ffmpeg with imageio-ffmpeg.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from ..errors import UsageError
from ..workspace.project import Workspace

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


@dataclass(frozen=True)
class MediaFile:
    """What ffprobe makes of any media file: an image is a one-frame video stream."""

    has_video: bool
    has_audio: bool
    width: int
    height: int
    duration_s: float


_STREAM = re.compile(r"Stream #\d+:\d+[^:\n]*: (?P<type>Video|Audio): (?P<rest>[^\n]*)")
_SIZE = re.compile(r", (\d{1,5})x(\d{1,5})(?=[ ,\[]|$)")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def describe(path: Path) -> MediaFile | None:
    """The file's streams as ffmpeg reads them, or None when it is not media.

    ffmpeg (always here, from imageio-ffmpeg) rather than ffprobe (shipped inside a workspace's
    node_modules), so that a file can be judged before any workspace is installed.
    """
    try:
        done = subprocess.run(
            [ffmpeg_path(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    streams = list(_STREAM.finditer(done.stderr))
    # A video stream with no size is a file the image demuxer took by its name alone (text called .png).
    video = next((m for m in streams if m["type"] == "Video" and _SIZE.search(m["rest"])), None)
    audio = any(m["type"] == "Audio" for m in streams)
    if video is None and not audio:
        return None
    found = _DURATION.search(done.stderr)
    duration = int(found[1]) * 3600 + int(found[2]) * 60 + float(found[3]) if found else 0.0
    size = _SIZE.search(video["rest"]) if video else None
    width, height = (int(size[1]), int(size[2])) if size else (0, 0)
    return MediaFile(video is not None, audio, width, height, duration)


@dataclass(frozen=True)
class Sound:
    """A rendered file's audio: its codec and length, how loud it gets, and where it is silent."""

    codec: str | None  # None: no audio stream at all
    duration_s: float
    max_volume_db: float
    silences: tuple[tuple[float, float], ...]


_SILENCE = re.compile(r"silence_start: (-?[\d.]+)|silence_end: (-?[\d.]+)")
_MAX_VOLUME = re.compile(r"max_volume: (-?[\d.]+|-inf) dB")


def sound(path: Path, workspace: Workspace | None = None, floor_db: float = -45, min_silence_s: float = 0.2) -> Sound:
    """One ffprobe for the stream, one ffmpeg pass for the loudness and the silences."""
    info = ffmpeg.probe(str(path), cmd=ffprobe_path(workspace))
    stream = next((s for s in info["streams"] if s.get("codec_type") == "audio"), None)
    if stream is None:
        return Sound(None, 0.0, float("-inf"), ())
    duration = float(stream.get("duration") or (info.get("format") or {}).get("duration") or 0.0)
    done = subprocess.run(
        [
            ffmpeg_path(),
            "-hide_banner",
            "-nostdin",
            "-i",
            str(path),
            "-vn",
            "-af",
            f"silencedetect=n={floor_db}dB:d={min_silence_s},volumedetect",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    loudest = _MAX_VOLUME.search(done.stderr)
    max_volume = float(loudest[1]) if loudest and loudest[1] != "-inf" else float("-inf")
    silences, start = [], None
    for found in _SILENCE.finditer(done.stderr):
        if found[1] is not None:
            start = max(0.0, float(found[1]))
        elif start is not None:
            silences.append((start, float(found[2])))
            start = None
    if start is not None:
        silences.append((start, duration))
    return Sound(stream.get("codec_name"), duration, max_volume, tuple(silences))
