"""Verifying a rendered file: the codec, size and length asked, something visible, motion, and its sound."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import ffmpeg
from PIL import Image, ImageChops

from ..check import diagnostics
from ..errors import StructuredError
from ..media import probe as media
from ..media.probe import ffmpeg_path
from ..sound import music, narration
from ..workspace.project import Video
from . import ladder

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


def verify(video: Video, path: Path, composition: ladder.Composition, codec: str) -> StructuredError | None:
    """The file matches its composition, shows something (dark is fine), and is not frozen."""
    try:
        probed = media.probe(path, video.workspace)
    except Exception as exc:  # ffprobe's own errors vary; any of them means an unreadable file
        return diagnostics.make("verify", f"the rendered file cannot be read: {exc}", video)
    expected = media.Expected(codec, composition.width, composition.height, composition.fps, composition.frames)
    problems = media.mismatches(probed, expected)
    if problems:
        return diagnostics.make("verify", "the rendered file " + "; ".join(problems), video)
    if codec != "gif":
        verdict = blank_or_frozen(path, probed.duration_s, composition.fps, composition.frames, (probed.width, probed.height))
        if verdict:
            return diagnostics.make(
                "verify",
                f"the video {verdict}: check that the component draws something visible and animates with useCurrentFrame()",
                video,
                file=video.entry,
            )
    return None


def verify_sound(
    video: Video, path: Path, composition: ladder.Composition, timeline: narration.Timeline | None, has_music: bool
) -> StructuredError | None:
    """A video with narration or music has it: a stream of the video's length, not silent, no line cut short."""
    problem = narration.sound_problem(timeline, media.sound(path, video.workspace), composition.duration_s, has_music)
    return diagnostics.make("verify", problem, video, file=video.entry) if problem else None


def verify_render(
    video: Video, path: Path, expected: ladder.Composition, codec: str, timeline: narration.Timeline | None, whole: bool
) -> StructuredError | None:
    """A rendered file, wherever it was rendered, checked against what was asked; its sound when the video has any.
    A frame range's sound is a cut of the whole video's (`whole` false), so its lines are not checked whole."""
    has_music = music.find(video) is not None
    return verify(video, path, expected, codec) or (
        verify_sound(video, path, expected, timeline, has_music)
        if (timeline is not None or has_music) and codec != "gif" and whole
        else None
    )
