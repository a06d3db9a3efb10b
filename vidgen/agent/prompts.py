"""The messages sent to the model, from the jinja2 templates in prompts/.

The system prompt (rules, then the workspace's API sheet) comes first and never changes
within a workspace, so providers with context caching (z.ai) serve it from cache.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath

import jinja2

from ..errors import Finding, StructuredError
from ..workspace import resources
from ..workspace.project import Workspace
from . import storyboard as board
from .replies import FORMAT_REMINDER

Message = dict[str, str]
_LANGUAGE = {".tsx": "tsx", ".ts": "ts", ".json": "json", ".css": "css", ".jsx": "jsx", ".js": "js"}


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.prompts_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _render(template: str, **values: object) -> str:
    return _environment().get_template(template).render(language=language_of, **values).strip() + "\n"


def language_of(path: str) -> str:
    return _LANGUAGE.get(PurePosixPath(path).suffix, "text")


def system(workspace: Workspace) -> Message:
    sheet = (workspace.root / "API.md").read_text() if (workspace.root / "API.md").exists() else ""
    return {"role": "system", "content": _render("system.j2", api_sheet=sheet)}


@dataclass(frozen=True)
class Extras:
    """What a request adds to the idea: the assets it may use, and whether it is narrated and captioned."""

    assets: Sequence[str] = ()
    narrate: bool = False
    captions: bool = False
    music: bool = False

    def values(self) -> dict[str, object]:
        return {"assets": list(self.assets), "narrate": self.narrate, "captions": self.captions, "music": self.music}


def create(name: str, idea: str, constraints: str, extras: Extras = Extras(), *, name_it: bool = False) -> Message:
    """The request for a new video; with `name_it`, the model names it in its reply's first line (see replies.video_name)."""
    values = {"name": name, "idea": idea, "constraints": constraints, "name_it": name_it, **extras.values()}
    return {"role": "user", "content": _render("create.j2", **values)}


def edit(
    name: str,
    instruction: str,
    files: dict[str, str],
    constraints: str,
    extras: Extras = Extras(),
    warnings: Sequence[Finding] = (),
) -> Message:
    """The request to change a video; `warnings` are those its last check left open, to fix with the change."""
    return {
        "role": "user",
        "content": _render(
            "edit.j2",
            name=name,
            instruction=instruction,
            files=files,
            constraints=constraints,
            warnings=list(warnings),
            **extras.values(),
        ),
    }


def polish(warnings: Sequence[Finding]) -> Message:
    """The one turn after a passing render with warnings: fix them, change nothing else."""
    return {"role": "user", "content": _render("polish.j2", warnings=list(warnings))}


def repair(error: StructuredError, format_problem: bool, warnings: Sequence[Finding] = ()) -> Message:
    reminder = FORMAT_REMINDER if format_problem else ""
    return {"role": "user", "content": _render("repair.j2", error=error, reminder=reminder, warnings=list(warnings))}


def critique(kind: str, idea: str, width: int, height: int, fps: float, frames: int, shown: list[int]) -> str:
    """The text part of the vision critique's request (the contact sheet goes beside it as an image)."""
    seconds = f"{frames / fps:.2f}" if fps else "?"
    listed = ", ".join(str(frame) for frame in shown)
    return _render(
        "critique.j2",
        kind=kind,
        idea=idea,
        width=width,
        height=height,
        fps=f"{fps:g}",
        frames=frames,
        seconds=seconds,
        shown=listed,
    )


def storyboard_request(idea: str, seconds: float | None, width: int, height: int, brand: str = "") -> Message:
    """The request for a storyboard (prompts/storyboard.j2): the plan before any code; `brand` the kit's rule."""
    return {
        "role": "user",
        "content": _render(
            "storyboard.j2",
            idea=idea,
            brand=brand,
            seconds=f"{seconds:g}" if seconds else "",
            width=width,
            height=height,
            fonts=" and ".join(f'"{font}"' for font in board.FONTS),
            motions=", ".join(f'"{m}"' for m in board.MOTIONS),
            min_scenes=board.MIN_SCENES,
            max_scenes=board.MAX_SCENES,
            example=json.dumps(board.EXAMPLE, indent=2),
        ),
    }


def storyboard_edit_request(instruction: str, storyboard_json: str) -> Message:
    """The request to change a storyboarded video's plan (prompts/storyboard_edit.j2), before any scene."""
    return {
        "role": "user",
        "content": _render(
            "storyboard_edit.j2",
            instruction=instruction,
            storyboard=storyboard_json.strip(),
            fonts=" and ".join(f'"{font}"' for font in board.FONTS),
            min_scenes=board.MIN_SCENES,
            max_scenes=board.MAX_SCENES,
        ),
    }


def scene_request(values: dict[str, object]) -> Message:
    """The request for one scene of a storyboarded video (prompts/scene.j2); `values` are the template's."""
    return {"role": "user", "content": _render("scene.j2", **values)}
