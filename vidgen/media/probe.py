"""Probing, verifying and previewing rendered videos with ffmpeg (through ffmpeg-python).

No system ffmpeg is needed: ffprobe comes with Remotion's compositor package in the
workspace, and ffmpeg with imageio-ffmpeg.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import ffmpeg
from PIL import Image, ImageChops, ImageFilter

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

# "Frozen" is judged the way the eye sees motion: every frame's brightness (the eye sees motion in
# brightness; a hue swap at equal brightness barely moves), scaled down to MOTION_SIDE px or half
# its size (area average), is compared with the last frame that changed, and it changed when at
# least MOTION_PIXELS of its pixels (a count, not a share: a 12 px dot moving over a still 1080p
# background is 26-31 pixels there) differ by more than MOTION_DELTA, twice the noise h264 leaves
# on a still image. Measured on Remotion renders: at most 11 levels (a 1080p gradient with text,
# frame 0 against the rest), 8 across the keyframe 250 frames into a textured 720p still; at full
# size a 640x360 texture reaches 39 on single pixels across that keyframe, 10 once 2x2 are averaged.
# ffmpeg's freezedetect averaged the difference over the whole frame: a small object moving on a
# large still background read as frozen at 1280x720 and above, and a long textured still moved.
MOTION_SIDE = 640
MOTION_DELTA = 24
MOTION_PIXELS = 4


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


@dataclass(frozen=True)
class Motion:
    """How often the picture changed: of `frames` decoded frames, `changed` differed from the last that changed."""

    frames: int
    changed: int

    @property
    def frozen(self) -> bool:
        return self.frames >= 2 and self.changed == 0


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


def changed(frame: Image.Image, before: Image.Image) -> bool:
    """Whether enough pixels differ between two greyscale frames by more than encoder noise to be seen as motion."""
    return sum(ImageChops.difference(frame, before).histogram()[MOTION_DELTA + 1 :]) >= MOTION_PIXELS


def blank_or_frozen(path: Path, duration_s: float, fps: float, frames: int, size: tuple[int, int]) -> str | None:
    """Why the whole video shows nothing ('is all black', 'shows nothing visible', 'is frozen'); else None.

    One decode: every frame goes on, small, to the motion check and a few a second, larger, to
    the visibility check, through two pipes, one frame at a time (a long 4K video never sits in memory).
    """
    if frames < 3 or duration_s <= 0:
        return None
    visibility, motion = _analyse(path, fps, frames, size)
    if visibility is not None and not visibility.visible:
        if visibility.black:
            return "is all black from start to end (nothing visible)"
        return f"shows nothing visible from start to end (every sampled frame is one flat colour, {visibility.hex_colour()})"
    if motion.frozen:
        return "is frozen from start to end: every frame is the same"
    return None


def _fit(source: tuple[int, int], side: int) -> tuple[int, int]:
    """`source` scaled down to at most `side` px on its longer side, in even sizes (never scaled up)."""
    scale = min(1.0, side / max(source))
    return max(2, round(source[0] * scale / 2) * 2), max(2, round(source[1] * scale / 2) * 2)


def _analyse(path: Path, fps: float, frames: int, source: tuple[int, int]) -> tuple[Visibility | None, Motion]:
    # Never finer than half the source: a pixel compared averages 2x2 or more, which tames h264's noise.
    sampled_size, motion_size = _fit(source, _MAX_SIDE), _fit(source, min(MOTION_SIDE, max(source) // 2))
    step = max(1, round(fps / _SAMPLES_PER_S), -(-frames // _MAX_SAMPLES))
    decoded = ffmpeg.input(str(path)).split()
    sampled = decoded[0].filter("select", f"not(mod(n,{step}))")
    if sampled_size != source:
        sampled = sampled.filter("scale", sampled_size[0], sampled_size[1], flags="area")
    every = decoded[1]
    if motion_size != source:
        every = every.filter("scale", motion_size[0], motion_size[1], flags="area")
    # The motion frames leave through a pipe of their own, ffmpeg's fd `write_end`.
    read_end, write_end = os.pipe()
    try:
        args = (
            ffmpeg.merge_outputs(
                sampled.output("pipe:", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough"),
                every.output(f"pipe:{write_end}", format="rawvideo", pix_fmt="gray", fps_mode="passthrough"),
            )
            .global_args("-nostats", "-hide_banner", "-nostdin")
            .compile(cmd=ffmpeg_path())
        )
        process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(write_end,)
        )
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None and stderr is not None
    errors: list[bytes] = []
    visibility: list[Visibility] = []
    failures: list[Exception] = []

    def read_samples() -> None:
        try:
            visibility.append(_visibility(stdout, sampled_size))
        except Exception as exc:  # raised again below, in the caller's thread
            failures.append(exc)
        finally:
            stdout.close()  # a reader that failed lets ffmpeg stop on a broken pipe instead of waiting on it

    readers = [
        threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True),
        threading.Thread(target=read_samples, daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        with open(read_end, "rb") as motion_frames:
            motion = _motion(motion_frames, motion_size)
    except BaseException:
        process.kill()
        raise
    finally:
        process.wait()
        for reader in readers:
            reader.join()
        stderr.close()
    if failures:
        raise failures[0]
    log = b"".join(errors).decode(errors="replace")
    if process.returncode != 0:
        raise ffmpeg.Error("ffmpeg", b"", log.encode())
    return (visibility[0] if visibility and visibility[0].frames else None), motion


def _visibility(frames: IO[bytes], size: tuple[int, int]) -> Visibility:
    """The sampled frame with the largest share of content, read from a pipe one frame at a time."""
    best = Visibility(0.0, (0, 0, 0), 0)
    frame_bytes = size[0] * size[1] * 3
    while len(data := frames.read(frame_bytes)) == frame_bytes:
        share, colour = content_share(Image.frombytes("RGB", size, data))
        if best.frames == 0 or share > best.share:
            best = Visibility(share, colour, best.frames + 1)
        else:
            best = Visibility(best.share, best.colour, best.frames + 1)
    return best


def _motion(frames: IO[bytes], size: tuple[int, int]) -> Motion:
    """How many frames changed, read from a pipe; only the frame read and the last that changed are kept."""
    count, moves, anchor = 0, 0, None
    frame_bytes = size[0] * size[1]
    while len(data := frames.read(frame_bytes)) == frame_bytes:
        frame = Image.frombytes("L", size, data)
        count += 1
        if anchor is None:
            anchor = frame
        # Against the last frame that changed, not the one before: a slow drift adds up to a change.
        elif changed(frame, anchor):
            moves += 1
            anchor = frame
    return Motion(count, moves)


# The poster is the sampled still with the most detail: the share of pixels on a strong edge
# (a jump of more than EDGE_STEP in brightness to a neighbour), measured at POSTER_SIDE px.
# Text and shapes at full contrast score high; a blank first frame scores 0, and a cross-fade
# halves every edge's contrast, so a mid-transition frame scores below either of its scenes.
# A slide or a wipe keeps its edges, so the most detailed steady still wins: under
# STEADY_SHARE of its pixels change in the STEADY_GAP frames after it (when none is steady, as
# in a video that pans all along, the most detailed). Measured on the example `hello` (6
# stills): frame 36, one frame into its slide, has the most edges (0.0170) but 86% of it moves,
# frame 71 (0.0158) is in the closing fade (96% moves), and the poster is frame 53, the settled
# second scene (0.0159, 1% moving); the choice costs one decode of the video (0.3-0.9 s there).
EDGE_STEP = 48
POSTER_SIDE = 480
STEADY_GAP = 3
STEADY_SHARE = 0.5
_MOVED_DELTA = 24


def detail(image_path: Path) -> float:
    """The share of a still's pixels on a strong edge (0 for a flat frame)."""
    with Image.open(image_path) as image:
        grey = image.convert("L")
        grey.thumbnail((POSTER_SIDE, POSTER_SIDE), Image.Resampling.BOX)
    edges = grey.filter(ImageFilter.FIND_EDGES).histogram()
    return sum(edges[EDGE_STEP + 1 :]) / max(1, grey.width * grey.height)


def most_detailed(stills: list[tuple[int, Path]]) -> list[tuple[float, int]]:
    """(detail, frame) of the readable stills with any detail, the most detailed first (the earliest on a tie)."""
    scored = []
    for frame, path in stills:
        try:
            score = detail(path)
        except OSError:
            continue  # a still that cannot be read is no candidate
        if score > 0:
            scored.append((score, frame))
    return sorted(scored, key=lambda pair: (-pair[0], pair[1]))


def poster_frame(video_path: Path, stills: list[tuple[int, Path]], frames: int, size: tuple[int, int]) -> int | None:
    """The frame for the poster: the most detailed of the stills, weighed by how steady it is; None without one."""
    candidates = most_detailed(stills)
    if len(candidates) < 2:
        return candidates[0][1] if candidates else None
    pairs = {frame: frame + STEADY_GAP if frame + STEADY_GAP < frames else max(0, frame - STEADY_GAP) for _, frame in candidates}
    moved = _moved_shares(video_path, pairs, size)
    return max(candidates, key=lambda pair: (moved.get(pair[1], 0.0) < STEADY_SHARE, pair[0], -pair[1]))[1]


def _moved_shares(video_path: Path, pairs: dict[int, int], source: tuple[int, int]) -> dict[int, float]:
    """For each frame, the share of its pixels that differ in its partner frame (one decode of the video)."""
    wanted = sorted(set(pairs) | set(pairs.values()))
    scale = min(1.0, POSTER_SIDE / max(source))
    size = (max(2, round(source[0] * scale / 2) * 2), max(2, round(source[1] * scale / 2) * 2))
    chosen = "+".join(f"eq(n,{n})" for n in wanted)
    data, _ = (
        ffmpeg.input(str(video_path))
        .filter("select", chosen)
        .filter("scale", size[0], size[1], flags="area")
        .output("pipe:", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough")
        .global_args("-nostats", "-hide_banner")
        .run(cmd=ffmpeg_path(), capture_stdout=True, capture_stderr=True)
    )
    length = size[0] * size[1] * 3
    decoded = {
        n: Image.frombytes("RGB", size, data[i * length : (i + 1) * length])
        for i, n in enumerate(wanted)
        if len(data) >= (i + 1) * length
    }
    shares = {}
    for frame, partner in pairs.items():
        if frame in decoded and partner in decoded:
            red, green, blue = ImageChops.difference(decoded[frame], decoded[partner]).split()
            largest = ImageChops.lighter(red, ImageChops.lighter(green, blue)).histogram()
            shares[frame] = sum(largest[_MOVED_DELTA + 1 :]) / (size[0] * size[1])
    return shares


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
