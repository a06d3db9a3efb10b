"""Layout QA: what the browser found wrong in a video's layout, as findings located in its code."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..engine.messages import LayoutProblem, PageElement, ProblemDetail
from ..engine.protocol import LayoutArgs
from ..engine.session import Session
from ..errors import Finding, StructuredError
from ..settings import QaSettings
from ..workspace.project import Video
from . import diagnostics, locations

KINDS = ("occluded", "offscreen", "clipped", "safe-area", "overlap", "contrast", "tiny")
MIN_SAMPLES = 8  # short videos still get enough frames for "most of the time" to mean something
_TIMEOUT_S = 120
_DEFINITION = re.compile(r"\b(?:function|const|let|var|class)\s+([A-Z][A-Za-z0-9_]*)")


def sample_count(frames: int, fps: float, qa: QaSettings) -> int:
    """How many frames to inspect: samples_per_second over the video, at least MIN_SAMPLES."""
    seconds = frames / fps if fps else 0.0
    return max(1, min(frames, max(MIN_SAMPLES, math.ceil(seconds * qa.samples_per_second))))


def options(qa: QaSettings, seconds_per_sample: float) -> dict[str, Any]:
    """The thresholds as the browser-side script (layout-qa.js) takes them."""
    return {
        "safeMargin": qa.safe_margin,
        "portraitSide": qa.portrait_side,
        "portraitTop": qa.portrait_top,
        "portraitBottom": qa.portrait_bottom,
        "defectSeconds": qa.defect_seconds,
        "minTextHeight": qa.min_text_height,
        "minContrast": qa.min_contrast,
        "minContrastSmall": qa.min_contrast_small,
        "smallText": qa.small_text,
        "occludedFraction": qa.occluded_fraction,
        "problemFraction": qa.problem_fraction,
        "sampleSeconds": seconds_per_sample,
    }


def inspect(
    session: Session,
    video: Video,
    frames: list[int],
    seconds_per_sample: float,
) -> list[Finding]:
    """Run the service's `layout` op on `frames`; the findings, errors first, then by frame.

    Raises ServiceReplyError when the video throws at one of the frames (the caller turns it
    into the stage's runtime error) and ServiceError when the service fails.
    """
    settings = session.settings
    timeout = settings.render.frame_timeout_s
    problems = session.service.layout(
        LayoutArgs(video.name, frames, options(settings.qa, seconds_per_sample), int(timeout * 1000)),
        timeout_s=_TIMEOUT_S + timeout * 2,
        idle_s=timeout + 30,
    )
    sources = Sources(video)
    found = [_finding(problem, sources) for problem in problems if problem.kind in _MESSAGES]
    return sorted(found, key=lambda f: (f.severity != "error", f.frame if f.frame is not None else -1, f.kind))


def first_error(video: Video, findings: list[Finding]) -> StructuredError | None:
    """The structured error the first error-severity finding becomes: what fails the check."""
    for finding in findings:
        if finding.severity == "error":
            return diagnostics.make("layout", finding.message, video, file=finding.file, line=finding.line, frame=finding.frame)
    return None


# ---------------------------------------------------------------------------- locating


@dataclass(frozen=True)
class Place:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Sources:
    """The video's source files, searched for the text, image or colour the browser saw."""

    def __init__(self, video: Video):
        self.video = video

    @cached_property
    def lines(self) -> list[tuple[str, list[str]]]:
        files = []
        for path in self.video.source_files():
            try:
                files.append((self.video.relative(path), path.read_text(errors="replace").splitlines()))
            except OSError:
                continue
        return files

    @cached_property
    def definitions(self) -> dict[str, Place]:
        """Where each component (a capitalised function, const or class) is defined."""
        found: dict[str, Place] = {}
        for file, lines in self.lines:
            for number, text in enumerate(lines, 1):
                for match in _DEFINITION.finditer(text):
                    found.setdefault(match[1], Place(file, number))
        return found

    def find(self, needle: str, prefer: str | None = None, ignore_case: bool = False) -> Place | None:
        """The first line holding `needle`, in the file `prefer` first."""
        if not needle:
            return None
        wanted = needle.lower() if ignore_case else needle
        ordered = sorted(self.lines, key=lambda item: item[0] != prefer)
        for file, lines in ordered:
            for number, text in enumerate(lines, 1):
                if wanted in (text.lower() if ignore_case else text):
                    return Place(file, number)
        return None

    def component(self, names: tuple[str, ...]) -> str | None:
        """The nearest component in the chain that the video itself defines."""
        return next((name for name in names if name in self.definitions), None)

    def stamped(self, element: PageElement) -> Place | None:
        """The line of the element's own tag (or its nearest stamped ancestor's), from the bundle's data-vg-src."""
        place = locations.parse(element.source, self.video)
        return Place(*place) if place else None

    def locate(self, element: PageElement) -> Place | None:
        """Where an element comes from: its stamp, else its text literal, its image file, or its component."""
        if place := self.stamped(element):
            return place
        component = self.component(element.components)
        home = self.definitions[component].file if component else None
        text = element.full_text or ""
        for piece in _pieces(text):
            place = self.find(piece, prefer=home)
            if place:
                return place
        for needle in _src_pieces(element.src or ""):
            if place := self.find(needle, prefer=home):
                return place
        return self.definitions[component] if component else None

    def locate_colour(self, element: PageElement) -> Place | None:
        """A covering box is found by its stamp, else its colour literal, else its component."""
        if place := self.stamped(element):
            return place
        colour = element.background or ""
        component = self.component(element.components)
        home = self.definitions[component].file if component else None
        if colour and colour != "#000000":
            short = f"#{colour[1]}{colour[3]}{colour[5]}" if colour[1::2] == colour[2::2] else None
            for needle in (colour, short):
                place = self.find(needle or "", prefer=home, ignore_case=True)
                if place:
                    return place
        return self.definitions[component] if component else None


def _src_pieces(source: str) -> list[str]:
    """What to search for a file's URL: all of it, then its file name, its folder, its stem.

    A URL built in code (`staticFile(`textures/${name}.jpg`)`, a query added) appears in the source only in parts.
    """
    path = source.split("?")[0]
    folder, _, name = path.rpartition("/")
    stem = name.rsplit(".", 1)[0]
    pieces = [source, path, name, f"{folder.rsplit('/', 1)[-1]}/" if folder else "", stem if len(stem) >= 4 else ""]
    return list(dict.fromkeys(p for p in pieces if p))


def _pieces(text: str) -> list[str]:
    """What to search for a rendered text: the whole of it, then its longest literal runs.

    A text built from expressions (`Revenue: {value}%`) appears in the source only in parts.
    """
    text = text.strip()
    if not text:
        return []
    pieces = [text, text[:30]]
    words = [w for w in re.split(r"[\s{}]+", text) if len(w) >= 3 and not w.replace(".", "").replace(",", "").isdigit()]
    pieces += sorted(words, key=len, reverse=True)[:3]
    return list(dict.fromkeys(p for p in pieces if p))


# ---------------------------------------------------------------------------- messages


def _what(element: PageElement, sources: Sources, place: Place | None) -> str:
    """'the text 'ACME' (div in Logo.tsx:12)': what an element is, for the model."""
    tag = element.tag or "element"
    where = f" in {place}" if place else ""
    if element.text:
        return f"the text '{element.text}' ({tag}{where})"
    if element.src:
        return f"the image '{element.src}' ({tag}{where})"
    component = sources.component(element.components)
    inside = f" of <{component}>" if component else ""
    return f"the {tag}{inside} ({place})" if place else f"the {tag}{inside}"


def _label(element: PageElement, sources: Sources) -> str:
    tag = element.tag or "element"
    component = sources.component(element.components)
    name = f"'{element.text}'" if element.text else f"'{element.src}'" if element.src else ""
    return " ".join(part for part in (tag, name, f"in <{component}>" if component else "") if part)


def _span(problem: LayoutProblem) -> str:
    first, last = problem.frame, problem.last_frame
    if first is None:
        return "in every sampled frame"
    return f"at frame {first}" if last in (None, first) else f"from frame {first} to {last}"


def _finding(problem: LayoutProblem, sources: Sources) -> Finding:
    place = sources.locate(problem.element)
    what = _what(problem.element, sources, place)
    message = _MESSAGES[problem.kind](what, problem.detail, _span(problem), sources)
    return Finding(
        kind=problem.kind,
        severity=problem.severity,
        message=message,
        frame=problem.frame,
        file=place.file if place else None,
        line=place.line if place else None,
        element=_label(problem.element, sources),
        last_frame=problem.last_frame,
        box=problem.detail.element_box or problem.detail.rect,
    )


def _occluded(what: str, detail: ProblemDetail, span: str, sources: Sources) -> str:
    cover = detail.cover or PageElement()
    where = sources.locate_colour(cover)
    covering = f"{cover.what or 'another element'}{f' ({where})' if where else ''}"
    return (
        f"{what} is hidden behind {covering} {span}: move that element behind it (earlier in the JSX, or a"
        " lower zIndex) or out of its box, or show it later"
    )


def _offscreen(what: str, detail: ProblemDetail, span: str, _sources: Sources) -> str:
    x, y, width, height = detail.rect or detail.element_box or (0, 0, 0, 0)
    box = f"x {x}..{x + width}, y {y}..{y + height}"
    if detail.never:
        return f"{what} is never inside the frame (its box is at {box}): position it inside the frame or remove it"
    edges = " and ".join(detail.edges or ["frame"])
    return f"{what} is cut by the {edges} edge of the frame {span} (its box spans {box}): move it inside the frame or make it smaller"


def _clipped(what: str, detail: ProblemDetail, span: str, sources: Sources) -> str:
    container = detail.container or PageElement()
    where = sources.locate_colour(container)
    box = f"its container ({container.tag or 'element'}{f' in {where}' if where else ''})"
    if detail.reason == "ellipsis":
        by = "" if detail.own else f" by {box}"
        return (
            f"{what} is shortened with an ellipsis{by} {span} ({_n(detail.width)}px of text in a"
            f" {_n(detail.box)}px box): widen the box, shorten the text or make the font smaller"
        )
    return (
        f"{what} is cut off by {box}, which hides its overflow, {span} (the text is {_n(detail.width)}x"
        f"{_n(detail.height)}px, the box {_n(detail.box)}x{_n(detail.box_height)}px): make the box larger,"
        " the text smaller, or let it wrap"
    )


def _safe_area(what: str, detail: ProblemDetail, span: str, _sources: Sources) -> str:
    edge, margin = detail.edge or "edge", _n(detail.margin)
    reserved = " (apps draw their buttons there in a 9:16 video)" if detail.portrait else ""
    return (
        f"{what} is {_n(detail.distance)}px from the {edge} edge {span}, inside the {margin}px safe margin{reserved}:"
        f" move it at least {margin}px from the edge"
    )


def _overlap(what: str, detail: ProblemDetail, span: str, sources: Sources) -> str:
    other = detail.other or PageElement()
    where = sources.locate(other)
    label = f"the text '{other.text}'" if other.text else "another text"
    return f"{what} overlaps {label}{f' ({where})' if where else ''} {span}: give each its own space, or show them at different times"


def _contrast(what: str, detail: ProblemDetail, span: str, _sources: Sources) -> str:
    return (
        f"{what} has a contrast of {_n(detail.ratio)}:1 ({detail.color} on {detail.background}) {span},"
        f" below {_n(detail.min if detail.min is not None else 3)}:1: make the text lighter or the background darker"
        " (or the reverse)"
    )


def _tiny(what: str, detail: ProblemDetail, span: str, _sources: Sources) -> str:
    return f"{what} is {_n(detail.px)}px high {span}, too small to read in the video: make it at least {_n(detail.min)}px"


def _media_failed(what: str, detail: ProblemDetail, span: str, sources: Sources) -> str:
    url, reason = detail.url or "", detail.reason or ""
    if "://" in url:
        fix = "the render has no network, so a remote URL never loads: put the file in public/ and load it with staticFile()"
    else:
        fix = f"put '{url.split('?')[0]}' in public/ and load it with staticFile(), or draw it with CSS or SVG"
    return f"the file '{url}' failed to load {span} ({reason}), so whatever shows it stays empty: {fix}"


def _n(value: float | None) -> str:
    """A measure as the page gave it: 12, not 12.0."""
    return "?" if value is None else f"{value:g}"


_MESSAGES: dict[str, Callable[[str, ProblemDetail, str, Sources], str]] = {
    "media-failed": _media_failed,
    "occluded": _occluded,
    "offscreen": _offscreen,
    "clipped": _clipped,
    "safe-area": _safe_area,
    "overlap": _overlap,
    "contrast": _contrast,
    "tiny": _tiny,
}
