"""A workspace's brand kit, `brand.json` beside vidgen.toml: the palette and fonts every new storyboard uses
as its design system, and a logo the scenes may show. Read as hostile input (the user's file, perhaps from
elsewhere): each problem is one line naming its line and field, nothing quoted.

The brand's voice is not here: it is `[voice]` in the same workspace's vidgen.toml, which every check that
speaks a line reads (a second place would let the ladder re-speak a line in another voice).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StoryboardError, UsageError
from .storyboard import Storyboard, _Reader

FILE = "brand.json"
MAX_BYTES = 16 * 1024
_KEYS = {"palette", "fonts", "logo"}
_LOGO = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}")


@dataclass(frozen=True)
class Brand:
    palette: dict[str, str]
    fonts: dict[str, str]
    logo: str | None  # a path under public/, as staticFile() takes it

    def describe(self) -> str:
        """For the storyboard request: what the design system must be."""
        logo = f' A logo is at staticFile("{self.logo}").' if self.logo else ""
        return f"Use the brand's palette {json.dumps(self.palette)} and fonts {json.dumps(self.fonts)} exactly.{logo}"

    def applied(self, board: Storyboard) -> Storyboard:
        """The storyboard with the brand's palette and fonts as its design's, whatever the model wrote."""
        design = dataclasses.replace(board.design, palette=dict(self.palette), fonts=dict(self.fonts))
        return dataclasses.replace(board, design=design)


def read(root: Path) -> Brand | None:
    """The workspace's brand kit; None without one; a UsageError (one line) when it is not valid."""
    path = root / FILE
    if not path.exists() and not path.is_symlink():
        return None
    fix = "fix it, or remove it to plan without a brand"
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
        raise UsageError(f"{FILE} must be a plain file of at most {MAX_BYTES // 1024} KiB: {fix}")
    text = path.read_text(errors="replace")
    try:
        kit = _parse(text)
    except StoryboardError as exc:
        line = f" line {exc.line}" if exc.line else ""
        field = f", {exc.field}" if exc.field else ""
        raise UsageError(f"{FILE}{line}{field}: {exc.problem}; {fix}") from None
    except (ValueError, RecursionError):
        raise UsageError(f"{FILE} is not valid JSON: {fix}") from None
    logo = root / "public" / kit.logo if kit.logo else None
    if logo is not None and (logo.is_symlink() or not logo.is_file()):
        raise UsageError(f"{FILE}, logo: no such plain file under public/: put the file there, or {fix}")
    return kit


def _parse(text: str) -> Brand:
    data: Any = json.loads(text)
    reader = _Reader(text)
    if isinstance(data, dict) and "voice" in data:
        raise StoryboardError("has a voice: set it as [voice] voice in vidgen.toml, which every narrated video uses", 1)
    if not isinstance(data, dict) or not {"palette", "fonts"} <= set(data) or set(data) - _KEYS:
        raise StoryboardError('must be one object with "palette" and "fonts", and optionally "logo"', 1)
    palette = reader.palette(data["palette"], "palette")  # checked as a storyboard's design checks its own
    fonts = reader.fonts(data["fonts"], "fonts")
    logo = data.get("logo")
    if logo is not None and (not isinstance(logo, str) or not _LOGO.fullmatch(logo) or ".." in logo.split("/")):
        raise reader.fail("must be a path under public/, e.g. brand/logo.png", "logo", "logo")
    return Brand(dict(palette), dict(fonts), logo)
