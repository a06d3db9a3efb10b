"""When each word of a spoken line starts: from the voice's own word events where it reports them
(espeak-ng does), else the measured line split in proportion to its characters, which says so."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

ESPEAK = "espeak"
PROPORTIONAL = "proportional"
_WORD = re.compile(r"\S+")


def events_path(wav: Path) -> Path:
    """Where a voice keeps a line's word events: beside its WAV in the cache."""
    return wav.with_suffix(".words.json")


def from_events(text: str, wav: Path, voiced_s: float) -> tuple[float, ...] | None:
    """Each whitespace word's start in seconds, from the voice's events beside `wav`; None without them.

    The events name a character of the text: a word starts at the first event inside it (espeak-ng may
    split "1,000" into two words); a word with none of its own (a dash) starts with the next one heard.
    The file is a cache entry, read as untrusted like any: anything malformed is no events.
    """
    path = events_path(wav)
    if path.is_symlink() or not path.is_file() or path.stat().st_size > 1024 * 1024:
        return None
    try:
        data = json.loads(path.read_text())
        events = sorted((int(at), int(ms)) for at, ms in data["words"])
    except (ValueError, TypeError, KeyError):
        return None
    if not events:
        return None
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    starts: list[float] = []
    last = 0.0
    for start, _end in spans:
        heard = next((ms for at, ms in events if at >= start), None)
        seconds = last if heard is None else min(max(heard / 1000, last), voiced_s)
        starts.append(seconds)
        last = seconds
    return tuple(starts)


def proportional(text: str, voiced_s: float) -> tuple[float, ...]:
    """Each word's start: the measured line split in proportion to its characters (a space included)."""
    words = text.split()
    total = sum(len(w) + 1 for w in words) or 1
    found, at = [], 0
    for word in words:
        found.append(voiced_s * at / total)
        at += len(word) + 1
    return tuple(found)


def frames(text: str, starts: tuple[float, ...], fps: float) -> list[tuple[str, int]]:
    """Each word with the frame it starts on."""
    return [(word, math.floor(at * fps + 1e-9)) for word, at in zip(text.split(), starts, strict=True)]
