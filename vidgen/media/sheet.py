"""The contact sheet: the ladder's sampled stills in one PNG grid, each labelled with its frame."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..workspace.files import atomic_write

TILE_SIDE = 480  # the longer side of a tile: 16 px text in a 1280x720 video stays readable to a vision model
BAND = 28  # the label band under each tile
GAP = 4
OUTLINE = 4
BACKGROUND = (24, 26, 32)
LABEL = (235, 238, 245)
MARKED = (230, 40, 40)


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


def marked_tiles(frames: list[int], marked: Iterable[int]) -> set[int]:
    """The tiles to outline: for each frame with a finding, the tile nearest to it."""
    chosen = set()
    for frame in marked:
        if frames:
            chosen.add(min(range(len(frames)), key=lambda i: (abs(frames[i] - frame), i)))
    return chosen


def write(
    stills: list[dict[str, Any]], target: Path, width: int, height: int, fps: float, marked: Iterable[int] = ()
) -> Path | None:
    """Draw the stills ({frame, path}) as a grid, marked frames outlined in red; written atomically.

    `marked` takes the frames of layout or critique findings; a finding between two stills
    marks the nearest one. None when there are no stills to draw.
    """
    shown = sorted((s for s in stills if Path(s["path"]).is_file()), key=lambda s: s["frame"])
    if not shown:
        return None
    grid = layout(len(shown), width, height)
    frames = [int(s["frame"]) for s in shown]
    outlined = marked_tiles(frames, marked)
    canvas = Image.new("RGB", grid.size, BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font = _font(BAND - 10)
    for index, still in enumerate(shown):
        x, y = grid.origin(index)
        with Image.open(still["path"]) as image:
            canvas.paste(image.convert("RGB").resize(grid.tile, Image.Resampling.LANCZOS), (x, y))
        seconds = frames[index] / fps if fps else 0.0
        colour = MARKED if index in outlined else LABEL
        text = f"frame {frames[index]} · {seconds:.2f} s" + (" · finding" if index in outlined else "")
        draw.text((x + 6, y + grid.tile[1] + (BAND - font.size) // 2 - 1), text, fill=colour, font=font)
        if index in outlined:
            box = (x, y, x + grid.tile[0] - 1, y + grid.tile[1] + BAND - 1)
            draw.rectangle(box, outline=MARKED, width=OUTLINE)
    data = io.BytesIO()
    canvas.save(data, format="PNG", compress_level=3)  # fast: the sheet is rewritten on every render
    atomic_write(target, data.getvalue())
    return target


def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's own scalable font: no font file to find on the machine (ffmpeg's drawtext needs one).
    return ImageFont.load_default(size=size)  # type: ignore[return-value]
