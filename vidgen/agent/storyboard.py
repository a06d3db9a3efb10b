"""storyboard.json: a longer video's plan, read as hostile input (a model's reply or a hand edit).

A title, a design system (palette, fonts from the shipped set, type scale, spacing, motion style) and
3-12 scenes, each with an id, its purpose, its narration line, what is on screen and a length hint.
Every problem is one StoryboardError naming the line and the field; nothing of the file is quoted
back but an id that already passed its check.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import StoryboardError

FILE = "storyboard.json"
MAX_BYTES = 64 * 1024
MIN_SCENES, MAX_SCENES = 3, 12
FONTS = ("Inter", "Roboto Mono")  # the font packages the template ships (@fontsource/inter, roboto-mono)
MOTIONS = ("calm", "lively", "snappy")
_ID = re.compile(r"[a-z][a-z0-9-]{0,31}")
_NAME = re.compile(r"[a-z][a-zA-Z0-9]{0,23}")
_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_SCENE_KEYS = ("id", "purpose", "narration", "on_screen", "seconds")
_DESIGN_KEYS = ("palette", "fonts", "type_scale", "spacing", "motion")
EXAMPLE: dict[str, Any] = {
    "title": "Why the sky is blue",
    "design": {
        "palette": {"background": "#0b1d3a", "text": "#ffffff", "accent": "#f7b733"},
        "fonts": {"heading": "Inter", "body": "Inter"},
        "type_scale": {"title": 72, "heading": 48, "body": 32},
        "spacing": [8, 16, 32, 64],
        "motion": "calm",
    },
    "scenes": [
        {
            "id": "intro",
            "purpose": "hook",
            "narration": "Why is the sky blue?",
            "on_screen": "The question, large, over a gradient sky.",
            "seconds": 3,
        }
    ],
}


@dataclass(frozen=True)
class Design:
    palette: dict[str, str]  # name -> #rrggbb; always has "background" and "text"
    fonts: dict[str, str]  # role -> a font of FONTS
    type_scale: dict[str, int]  # role -> px
    spacing: list[int]  # px steps
    motion: str  # one of MOTIONS


@dataclass(frozen=True)
class Scene:
    id: str
    purpose: str
    narration: str
    on_screen: str
    seconds: float  # the model's hint; the voice decides the real length

    @property
    def file(self) -> str:
        """The scene's component, relative to the video folder."""
        return f"scenes/{self.id}.tsx"

    @property
    def component(self) -> str:
        return component_name(self.id)


def component_name(scene_id: str) -> str:
    """A scene's component name in the generated root: `intro-card` -> `SceneIntroCard`."""
    return "Scene" + "".join(part.capitalize() for part in scene_id.split("-"))


@dataclass(frozen=True)
class Storyboard:
    title: str
    design: Design
    scenes: tuple[Scene, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "design": asdict(self.design), "scenes": [asdict(s) for s in self.scenes]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def scene(self, scene_id: str) -> Scene:
        return next(s for s in self.scenes if s.id == scene_id)


class _Reader:
    """One parse of one text: every error knows the text, to name its line."""

    def __init__(self, text: str):
        self.text = text

    def fail(self, message: str, field: str, key: str | None = None, nth: int = 0) -> StoryboardError:
        return StoryboardError(message, self._line(key, nth) if key else None, field)

    def _line(self, key: str, nth: int) -> int | None:
        found = list(re.finditer(rf'"{re.escape(key)}"\s*:', self.text))
        return self.text.count("\n", 0, found[nth].start()) + 1 if nth < len(found) else None

    def string(self, value: Any, field: str, most: int, key: str, nth: int = 0, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str):
            raise self.fail(f"must be a string, not {_kind(value)}", field, key, nth)
        if not value.strip() or len(value) > most:
            raise self.fail(f"must be 1 to {most} characters (it has {len(value)})", field, key, nth)
        if not value.isprintable():
            raise self.fail("has a control character (a newline, tab, NUL, ...): write one plain line", field, key, nth)
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(f"must match {pattern.pattern}", field, key, nth)
        return " ".join(value.split())

    def number(self, value: Any, field: str, low: float, high: float, key: str, nth: int = 0) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"must be a number, not {_kind(value)}", field, key, nth)
        if not low <= value <= high:
            raise self.fail(f"must be from {low:g} to {high:g}", field, key, nth)
        return value

    def table(self, value: Any, field: str, most: int, key: str) -> dict[str, Any]:
        """A small object of names (camelCase identifiers) to values."""
        if not isinstance(value, dict) or not 1 <= len(value) <= most:
            raise self.fail(f"must be an object of 1 to {most} names, e.g. {json.dumps(EXAMPLE['design'][key])}", field, key)
        for name in value:
            if not _NAME.fullmatch(name):
                raise self.fail(f"its names must match {_NAME.pattern} (a TypeScript identifier)", field, key)
        return value

    def palette(self, value: Any, field: str) -> dict[str, Any]:
        """A palette (a storyboard's design, or the brand kit's): named #rrggbb colours, a background and a text."""
        palette = self.table(value, field, 10, "palette")
        for name, colour in palette.items():
            if not isinstance(colour, str) or not _HEX.fullmatch(colour):
                raise self.fail("its colours must be #rrggbb", f"{field}.{name}", "palette")
        if not {"background", "text"} <= set(palette):
            raise self.fail('must name a "background" and a "text" colour', field, "palette")
        return palette

    def fonts(self, value: Any, field: str) -> dict[str, Any]:
        """Fonts by role, each one the template ships."""
        fonts = self.table(value, field, 4, "fonts")
        for role, font in fonts.items():
            if font not in FONTS:
                raise self.fail(f"must be a shipped font: {' or '.join(FONTS)}", f"{field}.{role}", "fonts")
        return fonts

    def design(self, value: Any) -> Design:
        if not isinstance(value, dict) or set(value) != set(_DESIGN_KEYS):
            raise self.fail(f"must be an object with exactly {', '.join(_DESIGN_KEYS)}", "design", "design")
        palette = self.palette(value["palette"], "design.palette")
        fonts = self.fonts(value["fonts"], "design.fonts")
        scale = self.table(value["type_scale"], "design.type_scale", 8, "type_scale")
        for role, size in scale.items():
            if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 400:
                raise self.fail("must be whole pixels from 8 to 400", f"design.type_scale.{role}", "type_scale")
        spacing = value["spacing"]
        if (
            not isinstance(spacing, list)
            or not 1 <= len(spacing) <= 8
            or any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= 1000 for s in spacing)
        ):
            raise self.fail("must be a list of 1 to 8 whole pixels from 0 to 1000, e.g. [8, 16, 32]", "design.spacing", "spacing")
        motion = value["motion"]
        if motion not in MOTIONS:
            raise self.fail(f"must be one of {', '.join(MOTIONS)}", "design.motion", "motion")
        return Design(dict(palette), dict(fonts), dict(scale), list(spacing), motion)

    def scene(self, value: Any, index: int, seen: set[str]) -> Scene:
        field = f"scenes[{index}]"
        if not isinstance(value, dict) or set(value) != set(_SCENE_KEYS):
            raise self.fail(f"must be an object with exactly {', '.join(_SCENE_KEYS)}", field, "id", index)
        scene_id = self.string(value["id"], f"{field}.id", 32, "id", index, _ID)
        if scene_id in seen:
            raise self.fail(f"the id {scene_id} is used twice: give each scene its own id", f"{field}.id", "id", index)
        component = component_name(scene_id)  # `x1` and `x-1` would both import SceneX1 in the root
        if component in seen:
            raise self.fail(
                f"the id {scene_id} names the same component ({component}) as another scene's: make the ids differ in"
                " more than dashes",
                f"{field}.id",
                "id",
                index,
            )
        seen.update((scene_id, component))  # ids are lower case, components not: the two never meet
        return Scene(
            scene_id,
            self.string(value["purpose"], f"{field}.purpose", 200, "id", index),
            self.string(value["narration"], f"{field}.narration", 400, "id", index),
            self.string(value["on_screen"], f"{field}.on_screen", 600, "id", index),
            self.number(value["seconds"], f"{field}.seconds", 1, 60, "id", index),
        )


def parse(text: str) -> Storyboard:
    """A storyboard from JSON text, or a StoryboardError at its line and field."""
    reader = _Reader(text)
    if len(text.encode(errors="replace")) > MAX_BYTES:
        raise StoryboardError(f"is over {MAX_BYTES // 1024} KiB: a storyboard is a few lines per scene")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise StoryboardError(f"is not valid JSON ({exc.msg})", exc.lineno) from None
    except RecursionError:
        raise StoryboardError("is nested too deeply: write one object with title, design and scenes") from None
    except ValueError as exc:  # a duplicate key or NaN, from the hooks
        raise StoryboardError(str(exc)) from None
    if not isinstance(data, dict) or set(data) != {"title", "design", "scenes"}:
        raise StoryboardError('must be one object with exactly "title", "design" and "scenes"', 1)
    title = reader.string(data["title"], "title", 120, "title")
    design = reader.design(data["design"])
    scenes = data["scenes"]
    if not isinstance(scenes, list) or not MIN_SCENES <= len(scenes) <= MAX_SCENES:
        count = f"has {len(scenes)}" if isinstance(scenes, list) else f"is {_kind(scenes)}"
        raise reader.fail(f"must be a list of {MIN_SCENES} to {MAX_SCENES} scenes ({count})", "scenes", "scenes")
    seen: set[str] = set()
    return Storyboard(title, design, tuple(reader.scene(scene, index, seen) for index, scene in enumerate(scenes)))


def read(folder: Path) -> Storyboard:
    """The storyboard in a video folder (a StoryboardError when it is damaged, missing or not a plain file)."""
    path = folder / FILE
    if path.is_symlink() or not path.is_file():
        raise StoryboardError("is missing or not a plain file in the video folder")
    if path.stat().st_size > MAX_BYTES:
        raise StoryboardError(f"is over {MAX_BYTES // 1024} KiB: a storyboard is a few lines per scene")
    return parse(path.read_text(errors="replace"))


def describe(board: Storyboard) -> str:
    """The storyboard for people: the title, the design in one line, then each scene."""
    d = board.design
    palette = ", ".join(f"{name} {colour}" for name, colour in d.palette.items())
    lines = [board.title, f"design: {palette}; fonts {', '.join(sorted(set(d.fonts.values())))}; motion {d.motion}", ""]
    for number, scene in enumerate(board.scenes, 1):
        lines.append(f"{number}. {scene.id} (~{scene.seconds:g} s): {scene.purpose}")
        lines += textwrap.wrap(f"voice: {scene.narration}", 96, initial_indent="   ", subsequent_indent="     ")
        lines += textwrap.wrap(f"screen: {scene.on_screen}", 96, initial_indent="   ", subsequent_indent="     ")
    return "\n".join(lines)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("has a key twice in one object: JSON readers disagree on which one counts")
    return dict(pairs)


def _no_constant(_name: str) -> Any:
    raise ValueError("has NaN or Infinity, which JSON does not allow: write a plain number")
