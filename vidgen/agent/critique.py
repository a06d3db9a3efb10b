"""The vision critique: a vision model looks at the contact sheet and names defects for a repair turn.

The verdict is untrusted model output: its shape is checked here (z.ai's response_format
only promises a JSON object), and a malformed one is a warning, never a failed video.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError, StructuredError, UsageError, VerdictError
from ..model import providers
from ..model.client import ModelClient, ModelOptions, Usage
from ..settings import Settings
from . import prompts

# Each provider names its vision model (`Provider.vision_model`, in providers.py). z.ai's GLM-5V-Turbo
# is its current one, built for finding rendering defects in screenshots; glm-4.6v and the free
# glm-4.6v-flash also work (`[critique] model`). Elsewhere the critique is off unless configured.
MAX_VERDICT_CHARS = 20_000
MAX_DEFECTS = 8
MAX_TEXT = 300


@dataclass(frozen=True)
class Defect:
    frame: int | None
    problem: str
    fix: str


@dataclass(frozen=True)
class Verdict:
    matches_idea: bool
    defects: list[Defect] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.matches_idea and not self.defects


@dataclass
class Review:
    """One critique call: the verdict, or why there is none (a warning), and what it cost."""

    verdict: Verdict | None = None
    warning: str | None = None
    reply: str = ""  # the model's answer as it came (capped), for the transcript
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0


def parse_verdict(text: str) -> Verdict:
    """The verdict from the model's text; VerdictError says what is wrong with it."""
    if len(text) > MAX_VERDICT_CHARS:
        raise VerdictError(f"the verdict is {len(text)} characters long, over {MAX_VERDICT_CHARS}")
    body = text.strip()
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", body, re.S)
    if fenced:
        body = fenced[1]
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        raise VerdictError("the verdict is not JSON") from None
    if not isinstance(data, dict):
        raise VerdictError("the verdict is not a JSON object")
    matches = data.get("matches_idea")
    if not isinstance(matches, bool):
        raise VerdictError("matches_idea is not true or false")
    raw = data.get("defects", [])
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise VerdictError("defects is not a list")
    defects = [_defect(item, index) for index, item in enumerate(raw[:MAX_DEFECTS])]
    return Verdict(matches, defects)


def _defect(item: Any, index: int) -> Defect:
    if not isinstance(item, dict):
        raise VerdictError(f"defect {index + 1} is not an object")
    frame = item.get("frame")
    if isinstance(frame, float) and frame.is_integer():
        frame = int(frame)
    if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int) or frame < 0):
        raise VerdictError(f"defect {index + 1} has a frame that is not a frame number")
    problem, fix = item.get("problem"), item.get("fix", "")
    if not isinstance(problem, str) or not problem.strip():
        raise VerdictError(f"defect {index + 1} has no problem text")
    if fix is None:
        fix = ""
    if not isinstance(fix, str):
        raise VerdictError(f"defect {index + 1} has a fix that is not text")
    return Defect(frame, _short(problem), _short(fix))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def to_error(verdict: Verdict, fps: float) -> StructuredError | None:
    """Defects as one structured error for the repair turn, each with the frame to look at."""
    defects = list(verdict.defects)
    if not defects and not verdict.matches_idea:
        defects = [
            Defect(None, "the video does not show what was asked for", "compare it with the request and change it to match")
        ]
    if not defects:
        return None
    lines = []
    for defect in defects:
        where = f"frame {defect.frame} ({defect.frame / fps:.2f} s)" if defect.frame is not None and fps else "the whole video"
        lines.append(f"- {where}: {defect.problem}" + (f" Fix: {defect.fix}" if defect.fix else ""))
    count = len(defects)
    message = (
        f"a reviewer looking at stills of the rendered video found {count} defect{'s' if count > 1 else ''}:"
        " fix each one and keep the rest of the video as it is"
    )
    first = next((d.frame for d in defects if d.frame is not None), None)
    return StructuredError(stage="critique", message=message, frame=first, excerpt="\n".join(lines))


def describe(verdict: Verdict) -> str:
    """The defects in one line, for a warning when no repair turn is left."""
    parts = [f"frame {d.frame}: {d.problem}" if d.frame is not None else d.problem for d in verdict.defects]
    return "; ".join(parts) or "the video does not show what was asked for"


class Critic:
    """Asks one vision model about a rendered video's contact sheet."""

    def __init__(self, client: ModelClient):
        self.client = client

    @property
    def model(self) -> str:
        return self.client.options.model

    def close(self) -> None:
        self.client.close()

    def review(
        self, kind: str, idea: str, sheet: Path, width: int, height: int, fps: float, frames: int, shown: list[int]
    ) -> Review:
        """Send the idea, the config and the sheet; any failure is a warning in the review, not an exception."""
        started = time.monotonic()
        review = Review()
        try:
            image = base64.b64encode(sheet.read_bytes()).decode()
            text = prompts.critique(kind, idea, width, height, fps, frames, shown)
            message = {
                "role": "user",
                "content": [
                    {"type": "text", "text": text},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
                ],
            }
            completion = self.client.complete([message])
            review.usage = completion.usage
            review.reply = completion.content[:MAX_VERDICT_CHARS]
            review.verdict = parse_verdict(completion.content)
        except VerdictError as exc:
            review.warning = f"critique by {self.model} ignored: {exc}"
        except (ModelError, OSError) as exc:
            review.warning = f"critique by {self.model} skipped: {exc}"
        review.seconds = time.monotonic() - started
        return review


def critic_for(settings: Settings, wanted: bool | None = None) -> Critic | None:
    """The critic the settings and the --critique/--no-critique flag ask for, or None when it is off.

    It uses the code model's own provider, URL and key; only the model differs.
    """
    enabled = settings.critique.enabled if wanted is None else wanted
    if not enabled:
        return None
    model = settings.critique.model or _known_model(settings)
    if not model:
        if wanted:
            raise UsageError(
                f"no vision model is known for provider {settings.model.provider!r} at this URL: set [critique] model"
                " in vidgen.toml (or VIDGEN_CRITIQUE_MODEL), or drop --critique"
            )
        return None
    endpoint = providers.resolve(settings.model.provider, settings.model.base_url)
    # GLM endpoints take json_object wherever they are; others only at their own documented URL.
    json_object = endpoint.glm_extras or (providers.get(endpoint.provider).json_object and not settings.model.base_url)
    options = ModelOptions(
        model=model,
        stream=False,  # one small JSON answer: nothing to show while it streams
        response_format="json_object" if json_object else None,
        max_retries=settings.model.max_retries,
        idle_timeout_s=120,
        deadline_s=300,
    )
    return Critic(ModelClient(endpoint, options))


def _known_model(settings: Settings) -> str:
    provider = providers.get(settings.model.provider)
    return provider.vision_model if provider.own_url(settings.model.base_url) else ""
