"""Settings: flag > environment (VIDGEN_*) > vidgen.toml > defaults."""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import loader
from .errors import UsageError

CONFIG_NAME = "vidgen.toml"


def setting(default: Any, doc: str, env: str | None = None) -> Any:
    """A setting's one definition: its default, the comment `vidgen init` writes above it, its VIDGEN_* variable."""
    return field(default=default, metadata={"doc": doc, "env": env})


@dataclass(frozen=True)
class RenderSettings:
    browser: str = setting(
        "", "Path to Chrome or Chromium; empty means auto-detect (/usr/bin/chromium, Chrome).", "VIDGEN_BROWSER"
    )
    codec: str = setting("h264", "h264 (.mp4), vp9 (.webm), prores (.mov) or gif; `render --codec` overrides it.", "VIDGEN_CODEC")
    concurrency: int = setting(0, "Frames rendered in parallel; 0 lets Remotion choose.", "VIDGEN_CONCURRENCY")
    crf: int = setting(
        0,
        "Quality of h264 (1-51) and vp9 (0-63) renders, lower is better and larger; 0 lets Remotion choose (h264 18,"
        " vp9 28). `render --crf` overrides it; prores and gif renders ignore it.",
    )
    chunks: int = setting(
        0,
        "Chunks an h264 render is split into, rendered at once and joined (`render --chunks` overrides it);"
        " 1 never splits, 0 is automatic: 1 unless the video is at least 20 s long and the machine has 8 cores"
        " or more, then one chunk per 4 cores, at most 4. One render already keeps half the cores busy"
        " drawing frames and its one encoder is what chunks add to, so a small machine gains nothing but"
        " the cost of joining (a `make bench` row measures it).",
        "VIDGEN_CHUNKS",
    )
    frame_timeout_s: float = setting(
        30,
        "Seconds one frame may take (delayRender, a stuck component) before the render fails; at least 7.",
        "VIDGEN_FRAME_TIMEOUT",
    )
    render_timeout_s: float = setting(
        600, "Seconds a whole render request may take before the render service is restarted.", "VIDGEN_RENDER_TIMEOUT"
    )
    sample_stills: int = setting(6, "Frames spread over the video that `check` draws as stills and the contact sheet shows.")
    gl: str = setting("", "Chromium's GL backend for Remotion (angle, swangle, ...); empty is Remotion's default.", "VIDGEN_GL")
    browser_flags: str = setting(
        "--disable-frame-rate-limit --disable-gpu-vsync",
        'Extra browser flags; the default renders the same frames about 40% faster. "" for none.',
    )
    allow_network: bool = setting(
        False,
        "The video's code is untrusted: the render service (Node and Chromium) runs in a network namespace with only"
        " its own loopback, and vidgen refuses to render where it cannot make one (not root and no unprivileged user"
        " namespaces). true renders without that wall: the video can then reach the network and this machine's local services.",
    )
    allow_unsandboxed: bool = setting(
        False,
        "The render service, its checker and Chromium run in a bubblewrap jail that holds only the workspace's code, its"
        " packages and the system's libraries and fonts ($HOME, /tmp and the stored keys are empty there); vidgen refuses"
        " to render where bubblewrap cannot run. true renders without that jail: the video's code can then reach this"
        " machine's files.",
    )
    keep_versions: int = setting(20, "Versions of each video whose MP4 is kept in .vidgen/renders/ for undo and redo (0: none).")
    daemon: bool = setting(
        True,
        "Commands share one render daemon per workspace (`vidgen daemon status`), so each finds Node, webpack, the"
        " checker and Chromium warm. false (or --no-daemon) renders in the command's own process.",
        "VIDGEN_DAEMON",
    )
    daemon_idle_s: float = setting(600, "Seconds the daemon waits without a command before it exits.", "VIDGEN_DAEMON_IDLE_S")
    on: str = setting(
        "local",
        "Where videos are rendered: local (this machine) or lambda (Remotion Lambda, after `vidgen lambda deploy`;"
        " the checks still run here first). `render --on` and `batch --on` override it.",
        "VIDGEN_RENDER_ON",
    )


@dataclass(frozen=True)
class Limits:
    max_seconds: float = setting(300, "Longest video a composition may declare, in seconds.")
    max_width: int = setting(3840, "Widest frame.")
    max_height: int = setting(2160, "Tallest frame.")
    max_fps: int = setting(60, "Highest frame rate.")


@dataclass(frozen=True)
class ModelSettings:
    provider: str = setting(
        "zai",
        "zai, zai-coding, openai, openrouter, ollama or a plugin's; base_url points anywhere OpenAI-compatible.",
        "VIDGEN_PROVIDER",
    )
    model: str = setting(
        "", '"" means the provider\'s default model (zai: glm-5.2, openai: gpt-5.1, ollama: llama3.2, ...).', "VIDGEN_MODEL"
    )
    base_url: str = setting(
        "", "Any OpenAI-compatible endpoint instead of the provider's; its key is VIDGEN_API_KEY.", "VIDGEN_BASE_URL"
    )
    thinking: str = setting("", '"enabled", "disabled", or "" for the model\'s own default.', "VIDGEN_THINKING")
    effort: str = setting(
        "", 'reasoning_effort, where the model takes it (low, medium, high); "" leaves it out.', "VIDGEN_EFFORT"
    )
    max_tokens: int = setting(32000, "Most tokens a reply may have.")
    temperature: float = setting(-1.0, "Sampling temperature; below 0 leaves it to the model.")
    max_repairs: int = setting(3, "Repair turns after the first reply.")
    polish: bool = setting(
        True,
        "A video that passes with layout warnings gets one more turn to fix them; its version is kept only if it passes"
        " too. false (or --no-polish) skips it.",
    )
    max_retries: int = setting(
        4, "Retries of passing trouble (429, 5xx, dropped streams) before giving up.", "VIDGEN_MODEL_RETRIES"
    )
    stream: bool = setting(True, "Stream replies (SSE); false waits for the whole reply.")


@dataclass(frozen=True)
class QaSettings:
    """Layout QA thresholds (shares are of the frame, or of an element's time on screen)."""

    enabled: bool = setting(
        True,
        "Layout QA after the stills: the composition is seeked in the browser and its DOM and pixels inspected for"
        " hidden, cut or unreadable content. `--no-qa` (or VIDGEN_QA=0) skips it for one command. The thresholds"
        " below are the ones the API sheet tells the model.",
        "VIDGEN_QA",
    )
    samples_per_second: float = setting(10.0, "Frames inspected per second of video: a 0.1 s grid.")
    safe_margin: float = setting(
        0.05,
        "Safe area: text inside it fails a 9:16 or 1:1 video and is a warning in a wider one; shares of the width at the sides and of the height at the top and bottom.",
    )
    portrait_side: float = setting(0.08, "9:16 keeps more clear: the share of the width at each side.")
    portrait_top: float = setting(0.12, "9:16: the share of the height at the top.")
    portrait_bottom: float = setting(0.2, "9:16: the share of the height at the bottom, where apps draw their buttons.")
    defect_seconds: float = setting(
        0.3, "A defect (cut, off-frame, hidden, unreadable, in a 9:16 or 1:1 safe area) this long in a row fails."
    )
    min_text_height: float = setting(0.015, "Text smaller than this share of the frame height is a warning.")
    min_contrast: float = setting(3.0, "WCAG contrast text needs against the pixels behind it.")
    min_contrast_small: float = setting(4.5, "... for text under small_text of the frame height.")
    small_text: float = setting(0.0333, "Body text: under this share of the height (24 px at 720p).")
    occluded_fraction: float = setting(
        0.5, "Content hidden behind a whole-frame layer for more than this share of its time on screen fails."
    )
    problem_fraction: float = setting(
        0.5, "Share of an element's time on screen a warning (crowding, tiny text, a 16:9 safe area) must last."
    )


@dataclass(frozen=True)
class CritiqueSettings:
    enabled: bool = setting(
        True,
        "After a render, a vision model looks at the contact sheet and names defects for a repair turn; on where the"
        " provider has a known vision model (z.ai: glm-5v-turbo), elsewhere set model to turn it on.",
        "VIDGEN_CRITIQUE",
    )
    model: str = setting("", '"" means the provider\'s known vision model.', "VIDGEN_CRITIQUE_MODEL")


@dataclass(frozen=True)
class VoiceSettings:
    """Narration: who speaks (`--narrate`), and the pause between scenes."""

    provider: str = setting(
        "espeak",
        '"espeak" speaks offline with espeak-ng; any other provider (or base_url) is an OpenAI-compatible'
        " /audio/speech endpoint, with the same key handling as the model.",
        "VIDGEN_VOICE_PROVIDER",
    )
    base_url: str = setting("", "An /audio/speech endpoint of your own (its key: VIDGEN_API_KEY).", "VIDGEN_VOICE_BASE_URL")
    model: str = setting("", 'The speech model of an HTTP voice; "" is tts-1.')
    voice: str = setting(
        "", "espeak: a voice such as en-us or en-gb; an HTTP endpoint: its voice name, e.g. alloy.", "VIDGEN_VOICE"
    )
    speed: int = setting(165, "espeak's words per minute.")
    gap_s: float = setting(0.4, "Seconds of silence after each scene's line.")


@dataclass(frozen=True)
class LambdaSettings:
    """Remotion Lambda (`vidgen lambda deploy`, `render --on lambda`); credentials come from the AWS SDK's own chain."""

    region: str = setting("us-east-1", "The AWS region of the function, the site and the renders.", "VIDGEN_LAMBDA_REGION")
    memory_mb: int = setting(2048, "Memory of the function in MB (512 to 10240); the cost grows with it.")
    disk_mb: int = setting(2048, "Disk of the function in MB (512 to 10240).")
    timeout_s: int = setting(120, "Seconds one function may run (15 to 900); a longer video wants more functions, not more time.")
    site_name: str = setting(
        "vidgen", "The name of the site (the workspace's bundle on S3); deploying and rendering upload the code under it."
    )
    frames_per_lambda: int = setting(0, "Frames each function renders; 0 lets Remotion choose. Exclusive with concurrency.")
    concurrency: int = setting(
        0, "Functions one render uses at most; 0 lets Remotion choose. New AWS accounts may run only 10 at once."
    )


@dataclass(frozen=True)
class StoryboardSettings:
    """Longer videos: a storyboard first, then each scene from its own model call (`new --storyboard`)."""

    min_seconds: float = setting(
        20, "`new --seconds` or a batch item's `seconds` above this plans a storyboard first; 0 never does it unasked."
    )
    jobs: int = setting(3, "Scenes whose model calls run at once (`new --jobs` overrides it).")


@dataclass(frozen=True)
class Settings:
    render: RenderSettings = field(default_factory=RenderSettings)
    limits: Limits = field(default_factory=Limits)
    model: ModelSettings = field(default_factory=ModelSettings)
    qa: QaSettings = field(default_factory=QaSettings)
    critique: CritiqueSettings = field(default_factory=CritiqueSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    lambda_: LambdaSettings = field(default_factory=LambdaSettings)  # `lambda` is Python's word: [lambda] in the file
    storyboard: StoryboardSettings = field(default_factory=StoryboardSettings)


def section_name(attribute: str) -> str:
    """The table's name in vidgen.toml of a Settings attribute: `lambda_` is [lambda]."""
    return attribute.rstrip("_")


def sections() -> dict[str, type]:
    """Each section's name and its dataclass, in the order vidgen.toml lists them."""
    return {section_name(f.name): f.default_factory for f in fields(Settings)}  # type: ignore[misc]


_ENV = {(section, f.name): f.metadata["env"] for section, cls in sections().items() for f in fields(cls) if f.metadata.get("env")}


def toml_value(value: Any) -> str:
    """A default as TOML writes it: true/false, a number, a quoted string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def default_toml() -> str:
    """The vidgen.toml `vidgen init` writes: every key at its default, under the comment that says what it does."""
    lines = ["# vidgen workspace settings. Flags and VIDGEN_* environment variables override these.", ""]
    for section, cls in sections().items():
        lines.append(f"[{section}]")
        for f in fields(cls):
            lines += [f"# {line}" for line in textwrap.wrap(f.metadata["doc"], 98)]
            lines.append(f"{f.name} = {toml_value(f.default)}")
        lines.append("")
    return "\n".join(lines)


DEFAULT_TOML = default_toml()


# Keys vidgen once wrote into every vidgen.toml and no longer reads: ignored, so old workspaces load.
_RETIRED = {("qa", "occluded_seconds")}

_WEEK_S = 7 * 24 * 3600
_KINDS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _coerce(section: str, key: str, value: Any, kind: type) -> Any:
    """An environment variable's text as the setting's type."""
    try:
        if kind is bool:
            return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}
        return kind(value)
    except (TypeError, ValueError):
        raise UsageError(f"setting {section}.{key} = {value!r} is not a {kind.__name__}: fix it in {CONFIG_NAME}") from None


def _from_file(section: str, key: str, value: Any, kind: type) -> Any:
    """A value from vidgen.toml must already have the setting's type (TOML has them all): no guessing."""
    if loader.problem(value, kind) is None and (kind is not float or math.isfinite(value)):
        return kind(value)
    raise UsageError(f"setting {section}.{key} is not a {kind.__name__}: fix it in {CONFIG_NAME}")


def _section(cls: type, section: str, values: dict[str, Any], origins: dict[str, str]) -> Any:
    known = {f.name: f for f in fields(cls)}
    values = {key: value for key, value in values.items() if (section, key) not in _RETIRED}
    unknown = set(values) - set(known)
    if unknown:
        raise UsageError(f"unknown setting {section}.{sorted(unknown)[0]} in {CONFIG_NAME}: remove it or check its spelling")
    # The annotation, not the default's type: `frame_timeout_s: float = 30` takes 8.5.
    kinds = {name: _KINDS.get(str(f.type), type(f.default)) for name, f in known.items()}
    merged = {k: _from_file(section, k, v, kinds[k]) for k, v in values.items()}
    origins.update({f"{section}.{name}": CONFIG_NAME if name in values else "default" for name in known})
    for (sec, key), var in _ENV.items():
        if sec == section and os.environ.get(var):
            merged[key] = _coerce(section, key, os.environ[var], kinds[key])
            origins[f"{section}.{key}"] = var
    return cls(**merged)


def load(workspace_root: Path | None, origins: dict[str, str] | None = None) -> Settings:
    """Read vidgen.toml (when there is a workspace) and apply the environment over it.

    `origins`, when given, is filled with where each setting came from: `section.key` ->
    "default", "vidgen.toml" or the environment variable's name (`vidgen config` shows them).
    """
    origins = {} if origins is None else origins
    data: dict[str, Any] = {}
    if workspace_root is not None:
        path = workspace_root / CONFIG_NAME
        if path.exists():
            shape = {section: dict for section in ("render", "limits", "model", "lambda")}
            data = loader.read_toml(path, shape, "fix it, or delete it for the defaults")
    render = _section(RenderSettings, "render", data.get("render", {}), origins)
    if render.frame_timeout_s < 7:
        raise UsageError(
            f"render.frame_timeout_s is {render.frame_timeout_s:g}, below Remotion's minimum of 7: raise it in {CONFIG_NAME}"
        )
    if render.chunks < 0:
        raise UsageError(f"render.chunks is {render.chunks}: use 0 (automatic), 1 (never split) or more in {CONFIG_NAME}")
    if not 0 <= render.crf <= 63:
        raise UsageError(f"render.crf is {render.crf}: use 0 (Remotion's choice), h264 1-51 or vp9 0-63 in {CONFIG_NAME}")
    if render.on not in RENDER_PLACES:
        raise UsageError(f"render.on is {render.on!r}: use one of {', '.join(RENDER_PLACES)} in {CONFIG_NAME}")
    if not math.isfinite(render.daemon_idle_s) or not 1 <= render.daemon_idle_s <= _WEEK_S:
        raise UsageError(
            f"render.daemon_idle_s is {render.daemon_idle_s:g}: use seconds from 1 to {_WEEK_S} in {CONFIG_NAME} "
            "(daemon = false turns the daemon off)"
        )
    return Settings(
        render=render,
        limits=_section(Limits, "limits", data.get("limits", {}), origins),
        model=_section(ModelSettings, "model", data.get("model", {}), origins),
        qa=_section(QaSettings, "qa", data.get("qa", {}), origins),
        critique=_section(CritiqueSettings, "critique", data.get("critique", {}), origins),
        voice=_section(VoiceSettings, "voice", data.get("voice", {}), origins),
        lambda_=_check_lambda(_section(LambdaSettings, "lambda", data.get("lambda", {}), origins)),
        storyboard=_section(StoryboardSettings, "storyboard", data.get("storyboard", {}), origins),
    )


RENDER_PLACES = ("local", "lambda")
# AWS's region names; a site name as Remotion allows it, less what a shell or an option would read otherwise.
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_SITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def _check_lambda(settings: LambdaSettings) -> LambdaSettings:
    """[lambda]'s values within what AWS and Remotion take: one line naming the key, before any command runs."""
    problems = {
        "region": None if _REGION.fullmatch(settings.region) else "is not an AWS region such as us-east-1 or eu-central-1",
        "memory_mb": None if 512 <= settings.memory_mb <= 10240 else "is outside 512 to 10240",
        "disk_mb": None if 512 <= settings.disk_mb <= 10240 else "is outside 512 to 10240",
        "timeout_s": None if 15 <= settings.timeout_s <= 900 else "is outside 15 to 900",
        "site_name": None if _SITE_NAME.fullmatch(settings.site_name) else "may hold only letters, digits, '.', '_' and '-'",
        "frames_per_lambda": None if settings.frames_per_lambda >= 0 else "is below 0",
        "concurrency": None if 0 <= settings.concurrency <= 200 else "is outside 0 to 200",
    }
    if settings.frames_per_lambda and settings.concurrency:
        problems["concurrency"] = "and frames_per_lambda are both set: Remotion takes one of them, set the other to 0"
    for key, problem in problems.items():
        if problem:
            value = getattr(settings, key)  # a text is not quoted back: the file's words stay in the file
            shown = "" if isinstance(value, str) else f" = {value}"
            raise UsageError(f"lambda.{key}{shown} {problem}: fix it in {CONFIG_NAME}")
    return settings


def with_model(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line flags to the model settings."""
    return _with(settings, "model", changes)


def with_render(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line flags (the highest precedence) to the render settings."""
    return _with(settings, "render", changes)


def with_lambda(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line flags to the [lambda] settings."""
    return _with(settings, "lambda_", changes)


def with_qa(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line flags to the layout QA settings."""
    return _with(settings, "qa", changes)


def _with(settings: Settings, section: str, changes: dict[str, Any]) -> Settings:
    """One section of the settings with the flags that were given (None: not given) applied."""
    given = {k: v for k, v in changes.items() if v is not None}
    return replace(settings, **{section: replace(getattr(settings, section), **given)})
