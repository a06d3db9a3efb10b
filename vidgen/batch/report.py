"""The batch report: one self-contained HTML page (images inlined) that opens from disk.

Each rendered item links its MP4 by a path relative to the report, so the links work when the
page is opened from out/ (its default place) or moved with the videos.
"""

from __future__ import annotations

import base64
import io
import os
import urllib.parse
from pathlib import Path
from typing import Any

import jinja2
from PIL import Image

from ..agent import story
from ..workspace.files import atomic_write

MARK = "<title>vidgen batch: "  # how a report is told from a page the user made (never overwritten)

_PAGE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vidgen batch: {{ title }}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; background: #f5f6fa; color: #1c2030; }
  h1 { font-size: 20px; margin: 0 0 4px; } .totals { color: #555; margin-bottom: 20px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 16px; }
  .card { background: white; border-radius: 8px; padding: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  .media { display: flex; gap: 6px; } .media img { width: 50%; border-radius: 4px; background: #ddd; }
  .none { width: 100%; height: 90px; display: flex; align-items: center; justify-content: center; background: #eee; color: #999; border-radius: 4px; }
  .name { font-weight: 600; margin: 8px 0 2px; } .prompt { color: #333; }
  .status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; color: white; }
  .rendered { background: #2e9e5b; } .failed { background: #c9372c; } .pending, .running, .interrupted { background: #8a8f9c; }
  .error { font-family: ui-monospace, monospace; font-size: 12px; color: #a3261d; white-space: pre-wrap; margin-top: 6px; }
  .meta { color: #666; font-size: 12px; margin-top: 6px; }
  details.sheet { margin-top: 6px; font-size: 12px; color: #444; } details.sheet img { width: 100%; margin-top: 4px; border-radius: 4px; }
  .warning { font-size: 12px; color: #8a5a00; margin-top: 4px; }
  a.open { font-weight: normal; font-size: 12px; margin-left: 6px; }
</style></head><body>
<h1>vidgen batch: {{ title }}</h1>
<div class="totals">{{ rendered }} rendered · {{ failed }} failed · {{ other }} not run · {{ usage.prompt }} prompt
 ({{ usage.cached }} cached) + {{ usage.completion }} completion tokens · {{ "%.1f"|format(seconds) }} s</div>
{% if scorecard %}<div class="totals">{{ scorecard }}</div>{% endif %}
<div class="grid">
{% for item in items %}
<div class="card">
  <div class="media">
  {% if item.poster %}<img alt="poster of {{ item.name }}" src="{{ item.poster }}">{% endif %}
  {% if item.preview %}<img alt="preview of {{ item.name }}" src="{{ item.preview }}">{% endif %}
  {% if not item.poster and not item.preview %}<div class="none">no video</div>{% endif %}
  </div>
  <div class="name">{{ item.name }} <span class="status {{ item.status }}">{{ item.status }}</span>
  {% if item.link %}<a class="open" href="{{ item.link }}">{{ item.file }}</a>{% endif %}</div>
  <div class="prompt">{{ item.prompt }}</div>
  {% if item.error %}<div class="error">{{ item.error }}</div>{% endif %}
  {% for warning in item.warnings %}<div class="warning">⚠ {{ warning }}</div>{% endfor %}
  {% if item.sheet %}<details class="sheet"><summary>contact sheet (the stills, with frame numbers)</summary>
  <img alt="contact sheet of {{ item.name }}" src="{{ item.sheet }}"></details>{% endif %}
  {% if item.story %}<div class="meta">{{ item.story }}</div>{% endif %}
  <div class="meta">{{ item.attempts }} · {{ item.tokens }} · {{ item.time }}</div>
</div>
{% endfor %}
</div></body></html>
""")


def _inline(root: Path, relative: str | None, mime: str) -> str | None:
    if not relative:
        return None
    path = root / relative
    if not path.is_file():
        return None
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _inline_sheet(root: Path, relative: str | None) -> str | None:
    """The contact sheet as a JPEG data URL: a third of the PNG's size, so a long batch keeps a light report."""
    if not relative or not (root / relative).is_file():
        return None
    try:
        with Image.open(root / relative) as image:
            data = io.BytesIO()
            image.convert("RGB").save(data, format="JPEG", quality=80)
    except OSError:
        return None  # a sheet that cannot be read: the report goes on without it
    return f"data:image/jpeg;base64,{base64.b64encode(data.getvalue()).decode()}"


def _link(root: Path, relative: str | None, page: Path) -> str | None:
    """A URL for the file, relative to the page's folder; None when it is not on disk."""
    if not relative or not (root / relative).is_file():
        return None
    path = os.path.relpath((root / relative).resolve(), page.parent.resolve())
    return urllib.parse.quote(Path(path).as_posix())


def _story(card: Any) -> str | None:
    """A storyboarded item's scorecard in one line; nothing when the manifest's entry is not one vidgen wrote."""
    if not isinstance(card, dict):
        return None
    try:
        return story.describe(card)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def is_report(path: Path) -> bool:
    """Whether the file at `path` is a report vidgen wrote (so writing over it loses nothing)."""
    try:
        with path.open("rb") as page:
            return MARK.encode() in page.read(512)
    except OSError:
        return False


def write(
    path: Path,
    title: str,
    root: Path,
    entries: list[dict[str, Any]],
    usage: dict[str, int],
    seconds: float,
    scorecard: str = "",
) -> Path:
    items = []
    for entry in entries:
        output = entry.get("output") if entry.get("status") == "rendered" else None
        error = entry.get("error") or None
        attempts = entry.get("attempts") or []
        stages = ", ".join(a.get("stage") or "ok" for a in attempts)
        infra = sum(int(a.get("infra") or 0) for a in attempts)
        if infra:  # retried by vidgen within the turns: not the model's failures
            stages += f"; {infra} fault{'s' if infra != 1 else ''} not the model's, retried"
        u = entry.get("usage") or {}
        timings = entry.get("timings") or {}
        items.append(
            {
                "name": entry.get("name", "?"),
                "prompt": entry.get("prompt", ""),
                "status": entry.get("status", "pending"),
                "error": f"{error.get('stage')}: {error.get('file') or ''}{':' + str(error['line']) if error.get('line') else ''} {error.get('message')}"
                if error
                else None,
                "poster": _inline(root, entry.get("poster"), "image/png"),
                "preview": _inline(root, entry.get("preview"), "image/gif"),
                "sheet": _inline_sheet(root, entry.get("sheet")),
                "link": _link(root, output, path),
                "file": Path(output).name if output else None,
                "warnings": entry.get("warnings") or [],
                "story": _story(entry.get("storyboard")),
                "attempts": f"{len(attempts)} attempt{'s' if len(attempts) != 1 else ''} ({stages})" if attempts else "not run",
                "tokens": f"{u.get('prompt', 0)}+{u.get('completion', 0)} tokens",
                "time": f"{timings.get('total_s', 0):.1f} s (model {timings.get('model_s', 0):.1f} s, render {timings.get('render_s', 0):.1f} s"
                + (f", critique {timings['critique_s']:.1f} s)" if timings.get("critique_s") else ")"),
            }
        )
    counts = {s: sum(1 for i in items if i["status"] == s) for s in ("rendered", "failed")}
    page = _PAGE.render(
        title=title,
        items=items,
        usage=usage,
        seconds=seconds,
        rendered=counts["rendered"],
        failed=counts["failed"],
        other=len(items) - counts["rendered"] - counts["failed"],
        scorecard=scorecard,
    )
    atomic_write(path, page.encode())
    return path
