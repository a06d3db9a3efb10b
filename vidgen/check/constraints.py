"""What the user asked of a video's shape (--seconds, --fps, --size, --aspect), held in its config.

Whatever the model writes, the numbers in `export const config = {...}` are set to these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..engine.messages import Composition
from ..errors import UsageError
from ..settings import Limits
from ..workspace.files import atomic_write

ASPECTS = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (1080, 1080), "4:5": (1080, 1350), "4:3": (1280, 960)}
_CONFIG = re.compile(r"export\s+const\s+config\s*(?::[^=]+)?=\s*\{(?P<body>[^{}]*)\}", re.DOTALL)
# Comments and string literals, so a `config` in a comment is never the one rewritten. A string
# stops at the end of its line, so a stray quote in JSX text masks one line at most.
_NOT_CODE = re.compile(r"//[^\n]*|/\*.*?(?:\*/|$)|'(?:\\.|[^'\\\n])*'?|\"(?:\\.|[^\"\\\n])*\"?|`(?:\\.|[^`\\])*`?", re.DOTALL)


@dataclass(frozen=True)
class Constraints:
    seconds: float | None = None
    fps: int | None = None
    width: int | None = None
    height: int | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.seconds, self.fps, self.width, self.height))

    def describe(self) -> str:
        parts = []
        if self.width is not None and self.height is not None:
            parts.append(f"{self.width}x{self.height} pixels")
        if self.fps is not None:
            parts.append(f"{self.fps} fps")
        if self.seconds is not None:
            fps = self.fps or 30
            parts.append(f"{self.seconds:g} seconds (durationInFrames {round(self.seconds * fps)} at {fps} fps)")
        return ", ".join(parts)

    def mismatch(self, width: int, height: int, fps: float, frames: int) -> str | None:
        """What the composition the bundle really exports gets wrong, said so the model can fix it."""
        problems, fixes = [], []
        if self.width is not None and self.height is not None and (width, height) != (self.width, self.height):
            problems.append(f"config says {width}x{height} but --size asks {self.width}x{self.height}")
            fixes.append(f"width: {self.width}, height: {self.height}")
        if self.fps is not None and fps != self.fps:
            problems.append(f"config says {fps:g} fps but --fps asks {self.fps}")
            fixes.append(f"fps: {self.fps}")
        if self.seconds is not None:
            wanted = round(self.seconds * (self.fps or fps))
            if frames != wanted:
                problems.append(f"config says durationInFrames {frames} but --seconds {self.seconds:g} asks {wanted}")
                fixes.append(f"durationInFrames: {wanted}")
        if not problems:
            return None
        return (
            f"{'; '.join(problems)}: set {', '.join(fixes)} in export const config, as plain numbers"
            " (no spread, Object.assign or later change)"
        )


def build(seconds: float | None, fps: int | None, size: str | None, aspect: str | None, limits: Limits) -> Constraints:
    """Check the flags against the limits; a UsageError says what is wrong."""
    if size and aspect:
        raise UsageError("give --size or --aspect, not both")
    width = height = None
    if size:
        match = re.fullmatch(r"(\d+)x(\d+)", size.strip().lower())
        if not match:
            raise UsageError(f"--size {size!r} is not WIDTHxHEIGHT: e.g. --size 1280x720")
        width, height = int(match[1]), int(match[2])
        fits = "e.g. {}x{}".format(*_nearest_good_size(width, height, limits))
        if width > limits.max_width or height > limits.max_height:
            raise UsageError(
                f"--size {size} is over the limit {limits.max_width}x{limits.max_height} (vidgen.toml [limits]): {fits}"
            )
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise UsageError(f"--size {size} must be even and positive: {fits}")
    elif aspect:
        if aspect not in ASPECTS:
            raise UsageError(f"--aspect {aspect!r} is not one of {', '.join(ASPECTS)}")
        width, height = ASPECTS[aspect]
    if fps is not None and not 1 <= fps <= limits.max_fps:
        raise UsageError(f"--fps {fps} must be between 1 and {limits.max_fps}")
    if seconds is not None and not 0 < seconds <= limits.max_seconds:
        raise UsageError(f"--seconds {seconds:g} must be above 0 and at most {limits.max_seconds:g} (vidgen.toml [limits])")
    return Constraints(seconds, fps, width, height)


def _nearest_good_size(width: int, height: int, limits: Limits) -> tuple[int, int]:
    """The size to suggest for a refused one: its shape, scaled within the limits, even (1280x720 when it has none)."""
    if width <= 0 or height <= 0:
        return 1280, 720
    scale = min(1.0, limits.max_width / width, limits.max_height / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _number(body: str, key: str) -> float | None:
    match = re.search(rf"\b{key}\s*:\s*(\d+(?:\.\d+)?)", body)
    return float(match[1]) if match else None


def _masked(text: str) -> str:
    """`text` with comments and strings blanked out, every offset unchanged."""
    return _NOT_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m[0]), text)


def enforce(entry: Path, constraints: Constraints) -> str | None:
    """Set the config's numbers in index.tsx; a message for the model if there is no literal to set.

    The config is looked for in the code only (comments and strings blanked out); the ladder
    then checks the numbers the bundle really exports, which no spread can hide.
    """
    if not constraints:
        return None
    text = entry.read_text()
    match = _CONFIG.search(_masked(text))
    if not match:
        return "index.tsx must declare `export const config = {durationInFrames, fps, width, height};` as a plain object literal"
    code = match["body"]  # the body as code: same offsets as the text, comments and strings blank
    body = text[match.start("body") : match.end("body")]
    fps = constraints.fps or _number(code, "fps") or 30
    wanted: dict[str, float | None] = {
        "fps": constraints.fps,
        "width": constraints.width,
        "height": constraints.height,
        "durationInFrames": round(constraints.seconds * fps) if constraints.seconds is not None else None,
    }
    edits: list[tuple[int, int, str]] = []
    missing: list[str] = []
    for key, value in wanted.items():
        if value is None:
            continue
        found = re.search(rf"\b{key}\s*:\s*([^,\n}}]+)", code)
        if found:
            edits.append((found.start(1), found.start(1) + len(found[1].rstrip()), str(int(value))))
        else:
            missing.append(f"{key}: {int(value)}")
    if missing:
        end = len(code.rstrip())  # after the last code, before a trailing comment
        joined = ", ".join(missing)
        before = code[:end]
        edits.append((end, end, joined if not before.strip() else f" {joined}" if before.endswith(",") else f", {joined}"))
    for start, stop, number in sorted(edits, reverse=True):
        body = body[:start] + number + body[stop:]
    atomic_write(entry, (text[: match.start("body")] + body + text[match.end("body") :]).encode())
    return None


_FIELD = re.compile(r"^config (?:says )?(?P<field>width|size|fps|durationInFrames|\d+x\d+|[\d.]+ fps)")


def config_line(entry: Path, problem: str = "") -> int | None:
    """The line a composition problem is about: its field inside `export const config`, or the declaration.

    The numbers come from the bundle, which has no lines; the model fixes them where they are written.
    """
    try:
        text = entry.read_text(errors="replace")
    except OSError:
        return None
    match = _CONFIG.search(_masked(text))
    if match is None:
        return None
    found = _FIELD.match(problem)
    field = found["field"] if found else ""
    field = "width" if "x" in field or field == "size" else "fps" if field.endswith("fps") else field
    if field:
        inside = re.search(rf"\b{field}\s*:", _masked(text)[match.start("body") : match.end("body")])
        if inside:
            return text.count("\n", 0, match.start("body") + inside.start()) + 1
    return text.count("\n", 0, match.start()) + 1


def config_fps(entry: Path) -> float | None:
    """The fps written in `export const config`, when it is a plain number."""
    try:
        text = entry.read_text(errors="replace")
    except OSError:
        return None
    match = _CONFIG.search(_masked(text))
    fps = _number(match["body"], "fps") if match else None
    return float(fps) if fps and 0 < fps <= 240 else None


def limits_problem(c: Composition, limits: Limits) -> str | None:
    """Why the composition's metadata cannot be rendered, or None."""
    if c.width <= 0 or c.height <= 0 or c.width % 2 or c.height % 2:
        return f"config width and height must be even and positive (got {c.width}x{c.height}): e.g. 1280x720"
    if c.width > limits.max_width or c.height > limits.max_height:
        return f"config size {c.width}x{c.height} is over the limit {limits.max_width}x{limits.max_height} set in vidgen.toml [limits]"
    if not 1 <= c.fps <= limits.max_fps:
        return f"config fps must be between 1 and {limits.max_fps} (got {c.fps:g}): e.g. 30"
    if c.frames < 1:
        return f"config durationInFrames must be at least 1 (got {c.frames}): e.g. {int(c.fps * 3)} for 3 seconds"
    if c.duration_s > limits.max_seconds:
        return (
            f"config durationInFrames {c.frames} is {c.duration_s:g}s at {c.fps:g} fps, over the {limits.max_seconds:g}s"
            " limit in vidgen.toml [limits] max_seconds: shorten the video"
        )
    return None
