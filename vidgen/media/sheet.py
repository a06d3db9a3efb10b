"""The contact sheet: the ladder's sampled stills and the findings' frames in one PNG grid, each labelled with its frame."""

from __future__ import annotations

import io
import math
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..errors import Finding
from ..workspace.files import atomic_write
from . import poster
from .yielding import Gate

TILE_SIDE = 480  # the longer side of a tile: 16 px text in a 1280x720 video stays readable to a vision model
BAND = 28  # the label band under each tile
GAP = 4
OUTLINE = 4
BACKGROUND = (24, 26, 32)
LABEL = (235, 238, 245)
MARKED = (230, 40, 40)
BOX_LINE = 3
MAX_ADDED = 6  # frames added for findings beyond the stills: the sheet stays readable to a vision model


@dataclass(frozen=True)
class Layout:
    """Where the tiles go: the sheet's size follows from the tile size and the grid."""

    columns: int
    rows: int
    tile: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        width, height = self.tile
        return (self.columns * width + (self.columns + 1) * GAP, self.rows * (height + BAND) + (self.rows + 1) * GAP)

    def origin(self, index: int) -> tuple[int, int]:
        column, row = index % self.columns, index // self.columns
        return (GAP + column * (self.tile[0] + GAP), GAP + row * (self.tile[1] + BAND + GAP))


def layout(count: int, width: int, height: int) -> Layout:
    """A near-square grid of `count` tiles of a `width`x`height` video."""
    scale = min(1.0, TILE_SIDE / max(width, height))
    tile = (max(1, round(width * scale)), max(1, round(height * scale)))
    columns = max(1, math.ceil(math.sqrt(count)))
    return Layout(columns, max(1, math.ceil(count / columns)), tile)


@dataclass(frozen=True)
class Mark:
    """A finding on the sheet: the frames it lasts, and the element's box at its first frame when known."""

    frame: int
    last_frame: int
    box: tuple[int, int, int, int] | None = None  # x, y, width, height in video pixels
    kind: str = "finding"

    def covers(self, frame: int) -> bool:
        return self.frame <= frame <= self.last_frame


def marks_of(findings: Iterable[Finding]) -> list[Mark]:
    """The marks of the findings that name a frame (layout QA's, the critique's)."""
    return [
        Mark(f.frame, max(f.frame, f.last_frame if f.last_frame is not None else f.frame), f.box, f.kind)
        for f in findings
        if f.frame is not None
    ]


def write(
    stills: list[dict[str, Any]],
    target: Path,
    width: int,
    height: int,
    fps: float,
    marks: Iterable[Mark] = (),
    video: Path | None = None,
    gate: Gate | None = None,
) -> Path | None:
    """Draw the stills ({frame, path}) as a grid, written atomically; None when there is nothing to draw.

    Each mark's first frame gets a tile of its own, taken from `video` when no still shows it, with the
    element's box drawn; every tile inside a mark's frames is outlined in red, and no other. With a `gate`,
    the work yields to renders between tiles (see yielding.py).
    """
    marks = list(marks)
    shown = {int(s["frame"]): Path(s["path"]) for s in stills if Path(s["path"]).is_file()}
    with tempfile.TemporaryDirectory(prefix=".sheet-", dir=target.parent) as extra:
        missing = sorted({mark.frame for mark in marks} - set(shown))[:MAX_ADDED]
        if missing and video is not None:
            shown.update(poster.write_frames(video, missing, Path(extra), gate))
        if not shown:
            return None
        frames = sorted(shown)
        grid = layout(len(frames), width, height)
        canvas = Image.new("RGB", grid.size, BACKGROUND)
        draw = ImageDraw.Draw(canvas)
        font = _font(BAND - 10)
        for index, frame in enumerate(frames):
            if gate is not None:
                gate.wait_turn()
            x, y = grid.origin(index)
            with Image.open(shown[frame]) as image:
                canvas.paste(image.convert("RGB").resize(grid.tile, Image.Resampling.LANCZOS), (x, y))
            covering = [mark for mark in marks if mark.covers(frame)]
            for mark in covering:
                if mark.box is not None and mark.frame == frame:
                    draw.rectangle(_scaled(mark.box, (x, y), grid.tile, (width, height)), outline=MARKED, width=BOX_LINE)
            seconds = frame / fps if fps else 0.0
            kinds = ", ".join(dict.fromkeys(mark.kind for mark in covering))
            text = f"frame {frame} · {seconds:.2f} s" + (f" · {kinds}" if covering else "")
            draw.text(
                (x + 6, y + grid.tile[1] + (BAND - font.size) // 2 - 1), text, fill=MARKED if covering else LABEL, font=font
            )
            if covering:
                draw.rectangle((x, y, x + grid.tile[0] - 1, y + grid.tile[1] + BAND - 1), outline=MARKED, width=OUTLINE)
    if gate is not None:
        gate.wait_turn()
    data = io.BytesIO()
    canvas.save(data, format="PNG", compress_level=3)  # fast: the sheet is rewritten on every render
    atomic_write(target, data.getvalue())
    return target


def _scaled(
    box: tuple[int, int, int, int], origin: tuple[int, int], tile: tuple[int, int], video: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The element's box in a tile at `origin`, kept inside the tile (an element off the frame shows at its edge)."""
    sx, sy = tile[0] / video[0], tile[1] / video[1]
    x, y, w, h = box
    left = min(max(0, round(x * sx)), tile[0] - 1)
    top = min(max(0, round(y * sy)), tile[1] - 1)
    right = min(max(left, round((x + w) * sx)), tile[0] - 1)
    bottom = min(max(top, round((y + h) * sy)), tile[1] - 1)
    return (origin[0] + left, origin[1] + top, origin[0] + right, origin[1] + bottom)


def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's own scalable font: no font file to find on the machine (ffmpeg's drawtext needs one).
    return ImageFont.load_default(size=size)  # type: ignore[return-value]
