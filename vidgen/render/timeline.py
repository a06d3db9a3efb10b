"""The composition's timeline: a scene or Sequence that its length cuts off, found in the mounted video.

A `<Series>` whose scenes add up to more than `durationInFrames`, or a `<Sequence>` that ends after
the last frame, renders without an error: the end is silently lost. The render service's `timeline`
op reads every Sequence React mounts (timeline.js); this judges them against the composition's
length (after calculateMetadata) and names the first cut one by its line.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..check import diagnostics, locations
from ..check.constraints import config_line
from ..engine.messages import Composition, MountedSequence
from ..engine.protocol import MetadataArgs, TimelineArgs
from ..engine.session import Session
from ..errors import Stage, StructuredError
from ..workspace.project import Video

# Only Sequences the video writes itself are judged (they carry its stamp); a video that names none
# of these has nothing to judge, and is not mounted for it.
_TIMED = re.compile(r"\b(?:Sequence|Series|TransitionSeries)\b")


@dataclass(frozen=True)
class Span:
    """A Sequence's frames as they show: its own, within its parents' (end None: to the end)."""

    sequence: MountedSequence
    start: float
    end: float | None
    place: tuple[str, int] | None

    @property
    def never_shown(self) -> bool:
        return self.end is not None and self.end <= self.start

    def cut(self, frames: int) -> bool:
        """Does the composition end before this Sequence does (or before it starts)?"""
        return self.start >= frames or (self.end is not None and math.ceil(self.end) > frames)


def wanted(video: Video) -> bool:
    """Does the video write a Sequence, Series or TransitionSeries at all?"""
    for path in video.source_files():
        try:
            if _TIMED.search(path.read_text(errors="replace")):
                return True
        except OSError:
            continue
    return False


Read = tuple[Composition, list[MountedSequence]]


class Reading:
    """A ladder's `read`, sent as soon as the bundle passed, while lint and typecheck still run (a page load
    sooner): its verdict is still taken after theirs, and a ladder that stops before it cancels it, so code
    they reject runs only until then (in the jail, as every video's code), and a timeout there never
    restarts the service (only the composition stage's own turns it into an error). What it sent, to cancel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[int] = []
        self.stopped = False

    def sent(self, session: Session, request_id: int) -> None:
        with self._lock:
            self._sent.append(request_id)
            stopped = self.stopped
        if stopped:
            session.service.cancel(request_id)

    def stop(self, session: Session) -> None:
        with self._lock:
            self.stopped, sent = True, list(self._sent)
        for request_id in sent:
            session.service.cancel(request_id)


def asks_timeline(video: Video, keep_page: bool) -> bool:
    """Whether `read` sends a `timeline` request (which a cancel closes at once), not a `metadata` one."""
    return keep_page or wanted(video)


def read(
    session: Session, video: Video, timeout: float, keep_page: bool = False, on_start: Callable[[int], None] | None = None
) -> Read:
    """The composition's metadata, and its Sequences when the video writes any: one request either way.

    `timeout` (seconds) is what loading a page and showing one frame may take. `keep_page`: a watch's first still
    or layout QA comes next, and reads the page this request opened (then a timeline request even without
    Sequences). `on_start` is given the request's id once it is sent (to cancel it).
    """
    timed = wanted(video)  # read once: asks_timeline's rule, and which Sequences to keep
    if not (keep_page or timed):
        args = MetadataArgs(video.name, int(timeout * 1000))
        return session.service.metadata(args, timeout_s=timeout + 30, on_start=on_start), []
    reply = session.service.timeline(
        TimelineArgs(video.name, int(timeout * 1000), keep_page), timeout_s=timeout * 3 + 30, on_start=on_start
    )
    return reply.composition, reply.sequences if timed else []


def spans(video: Video, sequences: list[MountedSequence]) -> list[Span]:
    """Each Sequence the video wrote, with the frames it can show: within every parent's."""
    by_id = {s.id: s for s in sequences}
    found = []
    for sequence in sequences:
        place = locations.parse(sequence.source, video)
        if place is None:
            continue  # Remotion's own (inside AbsoluteFill, Img, Audio, a Series' wrapper), or another file's
        start, end = _own(sequence)
        for parent in _ancestors(sequence, by_id):
            parent_start, parent_end = _own(parent)
            start = max(start, parent_start)
            end = parent_end if end is None else end if parent_end is None else min(end, parent_end)
        found.append(Span(sequence, start, end, place))
    return found


def _own(sequence: MountedSequence) -> tuple[float, float | None]:
    return sequence.start, (sequence.start + sequence.duration) if sequence.duration is not None else None


def problem(video: Video, sequences: list[MountedSequence], frames: int) -> StructuredError | None:
    """The first cut-off scene (a Series') or Sequence, as the composition stage's error."""
    every = spans(video, sequences)
    cut = [span for span in every if not span.never_shown and span.cut(frames)]
    ids = {span.sequence.id for span in cut}
    by_id = {s.id: s for s in sequences}
    # A Sequence inside one that is cut is cut with it: name the outer one only.
    outer = [span for span in cut if not any(p.id in ids for p in _ancestors(span.sequence, by_id))]
    if not outer:
        return None
    first = min(outer, key=lambda span: span.start)
    config = f"durationInFrames (index.tsx:{config_line(video.entry, 'config durationInFrames')})"
    if first.sequence.scene:
        message = _series_message(first, [s for s in outer if _siblings(s, first)], every, frames, config)
    else:
        message = _sequence_message(first, frames, config)
    assert first.place is not None
    return diagnostics.make(Stage.COMPOSITION, message, video, file=video.folder / first.place[0], line=first.place[1])


def _ancestors(sequence: MountedSequence, by_id: dict[int | str | None, MountedSequence]) -> Iterator[MountedSequence]:
    """The Sequences around `sequence`, innermost first (at most 100: the page's reply may loop)."""
    parent = by_id.get(sequence.parent) if sequence.parent is not None else None
    for _ in range(100):
        if parent is None:
            return
        yield parent
        parent = by_id.get(parent.parent) if parent.parent is not None else None


def _siblings(span: Span, first: Span) -> bool:
    return span.sequence.scene and span.sequence.parent == first.sequence.parent


def _frame(value: float) -> str:
    return f"{value:g}"


def _needed(spans: list[Span]) -> int:
    """The shortest durationInFrames that shows all of these."""
    return max(math.ceil(s.end) if s.end is not None else math.floor(s.start) + 1 for s in spans)


def _where(span: Span) -> str:
    return f"{span.place[0]}:{span.place[1]}" if span.place else "?"


def _frames_of(span: Span) -> str:
    return f"frames {_frame(span.start)}-{_frame(span.end)}" if span.end is not None else f"from frame {_frame(span.start)}"


def _series_message(first: Span, cut: list[Span], every: list[Span], frames: int, config: str) -> str:
    scenes = sorted((s for s in every if _siblings(s, first)), key=lambda s: s.start)
    kind = first.sequence.series or "Series"
    ends = [s.end for s in scenes if s.end is not None]
    last = max(ends) if ends and len(ends) == len(scenes) else None
    head = (
        f"the {kind} ends at frame {_frame(last)} but the composition has {frames} frames"
        if last is not None
        else f"the {kind}'s scenes run past frame {frames}, the composition's length"
    )
    named = [f"{_scene_label(s, scenes)} ({_frames_of(s)}, {_where(s)})" for s in sorted(cut, key=lambda s: s.start)]
    verb = "is" if len(named) == 1 else "are"
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return (
        f"{head}: {'the scene' if len(named) == 1 else 'the scenes'} {listed} {verb} cut off;"
        f" make {config} {_needed(cut)} or shorten the scenes"
    )


def _scene_label(span: Span, scenes: list[Span]) -> str:
    name = span.sequence.name
    if name and not name.startswith("<"):
        return f"'{name}'"
    if span.sequence.component:
        return f"<{span.sequence.component}>"
    return f"{scenes.index(span) + 1} of {len(scenes)}"


def _sequence_message(span: Span, frames: int, config: str) -> str:
    name = span.sequence.name
    label = f"the Sequence '{name}'" if name and not name.startswith("<") else "the Sequence"
    if span.start >= frames:
        return (
            f"{label} at {_where(span)} starts at frame {_frame(span.start)} but the composition has {frames} frames"
            f" (0-{frames - 1}): it is never shown; make {config} {_needed([span])} or start it earlier"
        )
    assert span.end is not None
    return (
        f"{label} at {_where(span)} runs from frame {_frame(span.start)} to {_frame(span.end)} but the composition has"
        f" {frames} frames: frames {frames}-{_frame(span.end)} are cut off; make {config} {math.ceil(span.end)}"
        f" or end the Sequence by frame {frames}"
    )
