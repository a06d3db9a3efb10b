"""A video's poster: the most detailed steady frame, found in its stills, written as a PNG; and its GIF preview."""

from __future__ import annotations

import os
from pathlib import Path

import ffmpeg
from PIL import Image, ImageChops, ImageFilter

from .yielding import Gate, run_ffmpeg

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


def most_detailed(stills: list[tuple[int, Path]], gate: Gate | None = None) -> list[tuple[float, int]]:
    """(detail, frame) of the readable stills with any detail, the most detailed first (the earliest on a tie)."""
    scored = []
    for frame, path in stills:
        if gate is not None:
            gate.wait_turn()
        try:
            score = detail(path)
        except OSError:
            continue  # a still that cannot be read is no candidate
        if score > 0:
            scored.append((score, frame))
    return sorted(scored, key=lambda pair: (-pair[0], pair[1]))


def poster_frame(
    video_path: Path, stills: list[tuple[int, Path]], frames: int, size: tuple[int, int], gate: Gate | None = None
) -> int | None:
    """The frame for the poster: the most detailed of the stills, weighed by how steady it is; None without one.
    With a `gate`, its work yields to renders (see yielding.py)."""
    candidates = most_detailed(stills, gate)
    if len(candidates) < 2:
        return candidates[0][1] if candidates else None
    pairs = {frame: frame + STEADY_GAP if frame + STEADY_GAP < frames else max(0, frame - STEADY_GAP) for _, frame in candidates}
    moved = _moved_shares(video_path, pairs, size, gate)
    return max(candidates, key=lambda pair: (moved.get(pair[1], 0.0) < STEADY_SHARE, pair[0], -pair[1]))[1]


def _moved_shares(video_path: Path, pairs: dict[int, int], source: tuple[int, int], gate: Gate | None) -> dict[int, float]:
    """For each frame, the share of its pixels that differ in its partner frame (one decode of the video)."""
    wanted = sorted(set(pairs) | set(pairs.values()))
    scale = min(1.0, POSTER_SIDE / max(source))
    size = (max(2, round(source[0] * scale / 2) * 2), max(2, round(source[1] * scale / 2) * 2))
    chosen = "+".join(f"eq(n,{n})" for n in wanted)
    stream = (
        ffmpeg.input(str(video_path))
        .filter("select", chosen)
        .filter("scale", size[0], size[1], flags="area")
        .output("pipe:", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough")
        .global_args("-nostats", "-hide_banner")
    )
    data = run_ffmpeg(stream, gate)
    if gate is not None:
        gate.wait_turn()
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


def write_poster(video_path: Path, poster: Path, at_s: float, gate: Gate | None = None) -> None:
    """One PNG frame from the video, written atomically."""
    partial = poster.with_name(f".{poster.name}.partial.png")
    stream = ffmpeg.input(str(video_path), ss=max(at_s, 0)).output(str(partial), vframes=1).overwrite_output()
    _run_to(stream, partial, poster, gate)


def write_frames(video_path: Path, frames: list[int], folder: Path, gate: Gate | None = None) -> dict[int, Path]:
    """The video's frames numbered `frames` as PNGs in `folder`, in one decode; those the video has."""
    wanted = sorted({frame for frame in frames if frame >= 0})
    if not wanted:
        return {}
    chosen = ffmpeg.input(str(video_path)).filter("select", "+".join(f"eq(n,{frame})" for frame in wanted))
    pattern = folder / "frame-%04d.png"
    run_ffmpeg(chosen.output(str(pattern), fps_mode="passthrough", start_number=0).overwrite_output(), gate)
    # The selected frames come out in order, numbered from 0.
    written = {frame: folder / f"frame-{index:04d}.png" for index, frame in enumerate(wanted)}
    return {frame: path for frame, path in written.items() if path.is_file()}


def write_preview_gif(
    video_path: Path, gif: Path, *, seconds: float = 4.0, width: int = 320, fps: int = 10, gate: Gate | None = None
) -> None:
    """A short, small GIF of the start of the video, with its own palette, written atomically."""
    partial = gif.with_name(f".{gif.name}.partial.gif")
    source = ffmpeg.input(str(video_path), t=seconds).filter("fps", fps=fps).filter("scale", width, -1, flags="lanczos")
    split = source.split()
    palette = split[0].filter("palettegen", stats_mode="diff")
    stream = ffmpeg.filter([split[1], palette], "paletteuse", dither="bayer").output(str(partial), loop=0).overwrite_output()
    _run_to(stream, partial, gif, gate)


def _run_to(stream: ffmpeg.nodes.OutputStream, partial: Path, final: Path, gate: Gate | None) -> None:
    """Run ffmpeg into `partial`, then rename it to `final`; on any failure leave nothing behind."""
    try:
        run_ffmpeg(stream, gate)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
