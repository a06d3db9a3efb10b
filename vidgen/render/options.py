"""What a render may be asked beyond the video itself: input props, scale, a frame range, a crf, chunks.

The options mean what Remotion's CLI means by `--props`, `--scale`, `--frames` and `--crf`. Each is
checked here, before any work or as soon as the composition is known, and a bad one is a one-line
UsageError. `--chunks N` renders N frame ranges at once and joins them (combineChunks): h264 only (its
chunks join without re-encoding) and the whole video only (a frame range is already a part; decided so
that a chunk is never a part of a part). Chunks make the same video, so they make no variant. A render with a frame range, a scale other than 1 or input props is a *variant*: not the
video its sources define, so it is written beside the video's render, never recorded as it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..engine.messages import Composition
from ..errors import UsageError

MAX_PROPS_BYTES = 64 * 1024
MAX_SCALE = 16  # Remotion's own limit
# Remotion's getValidCrfRanges for the codecs vidgen renders; prores and gif take no crf.
CRF_RANGES = {"h264": (1, 51), "vp9": (0, 63)}
# Remotion rounds these codecs' frame size to even numbers (validateEvenDimensionsWithCodec).
_EVEN_CODECS = {"h264"}
_FRAMES = re.compile(r"(\d{1,9})(-(\d{0,9}))?")


@dataclass(frozen=True)
class RenderOptions:
    """The options of one render; None is Remotion's default (no props, scale 1, every frame, the codec's crf)."""

    props: dict[str, Any] | None = None
    scale: float | None = None
    frames: tuple[int, int | None] | None = None  # first and last, inclusive; last None: to the end
    crf: int | None = None
    chunks: int | None = None  # None: vidgen.toml's render.chunks (0: automatic)

    @property
    def variant(self) -> bool:
        """Whether the render is something other than the whole video at its own size with its own props."""
        return self.frames is not None or (self.scale is not None and self.scale != 1) or self.props is not None

    def frame_range(self, composition: Composition) -> tuple[int, int] | None:
        """The frames to render, first and last, checked against the video's length (a UsageError if outside)."""
        if self.frames is None:
            return None
        first, last = self.frames
        end = composition.frames - 1
        last = end if last is None else last
        if last > end:
            raise UsageError(f"--frames {_spell(self.frames)} is past the end of the video, whose frames are 0 to {end}")
        return first, last

    def expected(self, composition: Composition, codec: str) -> Composition:
        """What the rendered file must be: the composition scaled, as long as the frames asked."""
        width, height = scaled_size(composition.width, composition.height, self.scale or 1, codec)
        span = self.frame_range(composition)
        frames = composition.frames if span is None else span[1] - span[0] + 1
        return Composition(width, height, composition.fps, frames)

    def variant_output(self, default: Path, composition: Composition) -> Path:
        """Where a variant goes unless --out says: out/NAME.frames-5-14@0.5x.props-1a2b3c4d.mp4, by what it is."""
        span = self.frame_range(composition)
        tag = f".frames-{span[0]}-{span[1]}" if span else ""
        if self.scale is not None and self.scale != 1:
            tag += f"@{self.scale:g}x"
        if self.props is not None:
            tag += f".props-{hashlib.sha256(canonical(self.props).encode()).hexdigest()[:8]}"
        return default.with_name(f"{default.stem}{tag}{default.suffix}")

    def wire(self, composition: Composition) -> dict[str, Any]:
        """The render op's optional arguments (RenderArgs' fields)."""
        span = self.frame_range(composition)
        chunks = self.chunks if self.chunks is not None and self.chunks > 1 else None
        return {
            "input_props": self.props,
            "scale": self.scale,
            "frame_range": list(span) if span else None,
            "crf": self.crf,
            "chunks": chunks,
        }

    def check_chunk_count(self, composition: Composition) -> None:
        """No more chunks than frames (a UsageError once the video's length is known)."""
        if self.chunks is not None and self.chunks > composition.frames:
            raise UsageError(
                f"--chunks {self.chunks} is more than the video's {composition.frames} frames: use 1 to {composition.frames}"
            )


def canonical(props: dict[str, Any]) -> str:
    return json.dumps(props, sort_keys=True, separators=(",", ":"))


def _spell(frames: tuple[int, int | None]) -> str:
    first, last = frames
    return str(first) if first == last else f"{first}-{'' if last is None else last}"


def parse_props(value: str) -> dict[str, Any]:
    """--props: a JSON object, inline or from @file.json; errors never quote the file's contents."""
    source = "--props"
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        source = f"--props file {path}"
        try:
            if not path.is_file():
                raise UsageError(f"{source} is not a file: give @path/to/props.json")
            if path.stat().st_size > MAX_PROPS_BYTES:
                raise UsageError(f"{source} is over {MAX_PROPS_BYTES // 1024} KiB: input props are for values, not data")
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{source} cannot be read ({exc.strerror})") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{source} is not UTF-8 text") from None
    else:
        text = value
    if len(text.encode()) > MAX_PROPS_BYTES:
        raise UsageError(f"{source} is over {MAX_PROPS_BYTES // 1024} KiB: input props are for values, not data")
    try:
        props = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise UsageError(f"{source} is nested too deeply") from None
    if not isinstance(props, dict):
        raise UsageError(f'{source} must be a JSON object such as {{"title": "Hello"}}, not a {type(props).__name__}')
    return props


def parse_scale(value: str) -> float:
    """--scale: above 0 and at most 16, as Remotion allows."""
    try:
        scale = float(value)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and 0 < scale <= MAX_SCALE):
        raise UsageError(f"--scale {value} is not a number above 0 and at most {MAX_SCALE}: e.g. 0.5 or 2")
    return scale


def parse_frames(value: str) -> tuple[int, int | None]:
    """--frames: N, A-B (inclusive) or A- (to the end), as Remotion's CLI reads them."""
    match = _FRAMES.fullmatch(value.strip())
    if match is None:
        raise UsageError(f"--frames {value} is not a frame range: e.g. 5-14 (inclusive), 5- (to the end) or 5")
    first = int(match[1])
    if match[2] is None:
        return first, first
    last = int(match[3]) if match[3] else None
    if last is not None and last < first:
        raise UsageError(f"--frames {value} ends before it starts: e.g. {first}-{first + 9}")
    return first, last


def check_crf(crf: int | None, codec: str, source: str = "--crf") -> None:
    """A crf the codec takes, in Remotion's range for it."""
    if crf is None:
        return
    if codec not in CRF_RANGES:
        raise UsageError(f"{source} applies to {' and '.join(CRF_RANGES)}, not {codec}: leave it out for {codec}")
    low, high = CRF_RANGES[codec]
    if not low <= crf <= high:
        raise UsageError(f"{source} {crf} is outside {codec}'s range, {low} to {high} (lower is better and larger)")


def scaled_size(width: int, height: int, scale: float, codec: str) -> tuple[int, int]:
    """The frame size Remotion writes at `scale`: each side times scale, made even first for h264 as Remotion does."""

    def js_round(value: float) -> int:  # Math.round: halves go up (Python's round goes to even)
        return math.floor(value + 0.5)

    def side(length: int) -> int:
        if codec in _EVEN_CODECS:
            while length > 1 and js_round(length * scale) % 2:
                length -= 1
        return js_round(length * scale)

    return side(width), side(height)


def check_size(composition: Composition, scale: float | None, codec: str, max_width: int, max_height: int) -> None:
    """A scale whose frames are empty or over the [limits] size is refused before any frame is drawn."""
    if scale is None or scale == 1:
        return
    width, height = scaled_size(composition.width, composition.height, scale, codec)
    if width < 2 or height < 2:
        raise UsageError(f"--scale {scale:g} makes {composition.width}x{composition.height} frames {width}x{height}: too small")
    if width > max_width or height > max_height:
        raise UsageError(
            f"--scale {scale:g} makes {composition.width}x{composition.height} frames {width}x{height},"
            f" over the limit {max_width}x{max_height} set in vidgen.toml [limits]"
        )


def check_chunks(chunks: int | None, codec: str, frames: tuple[int, int | None] | None) -> None:
    """--chunks: at least 1, of a whole h264 render (the frame count is checked once known)."""
    if chunks is None or chunks == 1:
        if chunks is not None and frames is not None:
            raise UsageError("--chunks renders the whole video: leave out --frames, or --chunks")
        return
    if chunks < 1:
        raise UsageError(f"--chunks {chunks} is not a number of chunks: use 1 (no split) or more, e.g. --chunks 2")
    if codec != "h264":
        raise UsageError(f"--chunks joins h264 renders only, not {codec}: leave out --chunks for {codec}")
    if frames is not None:
        raise UsageError("--chunks renders the whole video: leave out --frames, or --chunks")


def from_flags(
    props: str | None, scale: str | None, frames: str | None, crf: int | None, codec: str, chunks: int | None = None
) -> RenderOptions:
    """The options `vidgen render` was given, checked before any work."""
    check_crf(crf, codec)
    parsed_frames = None if frames is None else parse_frames(frames)
    check_chunks(chunks, codec, parsed_frames)
    return RenderOptions(
        props=None if props is None else parse_props(props),
        scale=None if scale is None else parse_scale(scale),
        frames=parsed_frames,
        crf=crf,
        chunks=chunks,
    )


AUTO_CHUNKS_SECONDS = 20  # see render.chunks in settings.py
AUTO_CHUNKS_CORES = 8


def with_configured_chunks(
    asked: RenderOptions, configured: int, codec: str, composition: Composition, cores: int | None
) -> RenderOptions:
    """vidgen.toml's render.chunks (0: automatic) for a whole h264 render, unless --chunks said."""
    if asked.chunks is not None or codec != "h264" or asked.frames is not None:
        return asked
    chunks = configured or auto_chunks(composition, cores or 1)
    return replace(asked, chunks=max(1, min(chunks, composition.frames)))


def auto_chunks(composition: Composition, cores: int) -> int:
    """1, unless the video is long and the machine big: one chunk per 4 cores, at most 4."""
    if cores < AUTO_CHUNKS_CORES or composition.frames < AUTO_CHUNKS_SECONDS * composition.fps:
        return 1
    return min(4, cores // 4)


def with_configured_crf(asked: RenderOptions, configured: int, codec: str) -> RenderOptions:
    """vidgen.toml's crf for every render whose codec takes one, unless --crf said (0: Remotion's choice)."""
    if asked.crf is not None or not configured or codec not in CRF_RANGES:
        return asked
    check_crf(configured, codec, "render.crf in vidgen.toml:")
    return replace(asked, crf=configured)
