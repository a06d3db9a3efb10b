"""Probing, verifying and previewing rendered videos with ffmpeg (through ffmpeg-python).

No system ffmpeg is needed: ffprobe comes with Remotion's compositor package in the
workspace, and ffmpeg (with the blackdetect and freezedetect filters) with imageio-ffmpeg.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
from PIL import Image, ImageChops

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


_FREEZE_START = re.compile(r"freeze_start:\s*(?P<start>[\d.]+)")

# "Nothing visible" is judged on frames sampled from the file, not on how dark they are: a pixel
# counts as content when one of its channels is more than VISIBLE_DELTA from the frame's dominant
# colour, and a frame shows something when at least VISIBLE_SHARE of its pixels do. Measured on
# 640x360 renders: blank videos (empty, all #000, flat navy) give exactly 0 such pixels (h264
# keeps a flat frame flat); a dark navy map with thin dashed lines, two dots and 16 px labels
# gives 0.5%. The share is kept tiny so that one small label alone on a 1080p frame (0.01%)
# still counts as something visible.
VISIBLE_DELTA = 16
VISIBLE_SHARE = 0.00002
_SAMPLES_PER_S = 2
_MAX_SAMPLES = 120
_MAX_SIDE = 1280  # larger frames are analysed scaled down (area average): ~25 ms a 1280x720 frame


@dataclass(frozen=True)
class Visibility:
    """What the sampled frames show: the largest share of content pixels, and the flat colour."""

    share: float
    colour: tuple[int, int, int]
    frames: int

    @property
    def visible(self) -> bool:
        return self.share >= VISIBLE_SHARE

    @property
    def black(self) -> bool:
        return max(self.colour) <= VISIBLE_DELTA

    def hex_colour(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.colour)


def content_share(frame: Image.Image) -> tuple[float, tuple[int, int, int]]:
    """The share of pixels differing from the frame's dominant colour, and that colour."""
    histogram = frame.histogram()
    dominant = tuple(_mode(histogram[c * 256 : (c + 1) * 256]) for c in range(3))
    difference = ImageChops.difference(frame, Image.new("RGB", frame.size, dominant))
    red, green, blue = difference.split()
    largest = ImageChops.lighter(red, ImageChops.lighter(green, blue)).histogram()
    differing = sum(largest[VISIBLE_DELTA + 1 :])
    return differing / (frame.width * frame.height), (dominant[0], dominant[1], dominant[2])


def _mode(counts: list[int]) -> int:
    return counts.index(max(counts))


def blank_or_frozen(path: Path, duration_s: float, fps: float, frames: int, size: tuple[int, int]) -> str | None:
    """Why the whole video shows nothing ('is all black', 'shows nothing visible', 'is frozen'); else None.

    One decode: freezedetect sees every frame, and a few frames a second go on to the
    visibility check through a pipe, one at a time (a long 4K video never sits in memory).
    """
    if frames < 3 or duration_s <= 0:
        return None
    span = max(duration_s - 2.0 / fps, 1.0 / fps)
    visibility, log = _analyse(path, span, fps, frames, size)
    if visibility is not None and not visibility.visible:
        if visibility.black:
            return "is all black from start to end (nothing visible)"
        return f"shows nothing visible from start to end (every sampled frame is one flat colour, {visibility.hex_colour()})"
    for match in _FREEZE_START.finditer(log):
        if float(match["start"]) <= 1.5 / fps:
            return "is frozen from start to end: every frame is the same"
    return None


def _analyse(path: Path, span: float, fps: float, frames: int, source: tuple[int, int]) -> tuple[Visibility | None, str]:
    width, height = source
    scale = min(1.0, _MAX_SIDE / max(width, height))
    size = (max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2))
    step = max(1, round(fps / _SAMPLES_PER_S), -(-frames // _MAX_SAMPLES))
    stream = ffmpeg.input(str(path)).filter("freezedetect", n=0.001, d=span).filter("select", f"not(mod(n,{step}))")
    if size != (width, height):
        stream = stream.filter("scale", size[0], size[1], flags="area")
    process = (
        stream.output("pipe:", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough")
        .global_args("-nostats", "-hide_banner")
        .run_async(cmd=ffmpeg_path(), pipe_stdout=True, pipe_stderr=True)
    )
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
    reader.start()
    best = Visibility(0.0, (0, 0, 0), 0)
    frame_bytes = size[0] * size[1] * 3
    try:
        while True:
            data = process.stdout.read(frame_bytes)
            if len(data) < frame_bytes:
                break
            share, colour = content_share(Image.frombytes("RGB", size, data))
            if best.frames == 0 or share > best.share:
                best = Visibility(share, colour, best.frames + 1)
            else:
                best = Visibility(best.share, best.colour, best.frames + 1)
    finally:
        process.stdout.close()
        process.wait()
        reader.join()
    log = b"".join(errors).decode(errors="replace")
    if process.returncode != 0:
        raise ffmpeg.Error("ffmpeg", b"", log.encode())
    return (best if best.frames else None), log


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
