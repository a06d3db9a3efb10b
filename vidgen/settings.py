"""Settings: flag > environment (VIDGEN_*) > vidgen.toml > defaults."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import loader
from .errors import UsageError

CONFIG_NAME = "vidgen.toml"

DEFAULT_TOML = """\
# vidgen workspace settings. Flags and VIDGEN_* environment variables override these.

[render]
# Path to Chrome or Chromium; empty means auto-detect (/usr/bin/chromium, Chrome).
browser = ""
codec = "h264"
# Frames rendered in parallel; 0 lets Remotion choose.
concurrency = 0
# Seconds one frame may take (delayRender, a stuck component) before the render fails.
frame_timeout_s = 30
# Seconds a whole render request may take before the render service is restarted.
render_timeout_s = 600
# Frames spread over the video that are rendered as stills before every full render.
sample_stills = 6
# Extra browser flags; the default renders the same frames about 40% faster. "" for none.
browser_flags = "--disable-frame-rate-limit --disable-gpu-vsync"
# The video's code is untrusted: the render service (Node and Chromium) runs in a network
# namespace with only its own loopback, and vidgen refuses to render where it cannot make one
# (not root and no unprivileged user namespaces). true renders without that wall: the video
# can then reach the network and this machine's local services.
allow_network = false
# The render service, its checker and Chromium run in a bubblewrap jail that holds only the
# workspace's code, its packages and the system's libraries and fonts ($HOME, /tmp and the stored
# keys are empty there); vidgen refuses to render where bubblewrap cannot run. true renders without
# that jail: the video's code can then reach this machine's files.
allow_unsandboxed = false
# Versions of each video whose MP4 is kept in .vidgen/renders/ for undo and redo (0: none).
keep_versions = 20
# Commands share one render daemon per workspace (`vidgen daemon status`), so each finds Node,
# webpack, the checker and Chromium warm; it exits after daemon_idle_s seconds without a command.
# false (or --no-daemon) renders in the command's own process, as before.
daemon = true
daemon_idle_s = 600

[limits]
max_seconds = 300
max_width = 3840
max_height = 2160
max_fps = 60

[model]
# zai, zai-coding, openai, openrouter, ollama or a plugin's; base_url points anywhere OpenAI-compatible.
provider = "zai"
# "" means the provider's default model (zai: glm-5.2, openai: gpt-5.1, ollama: llama3.2, ...).
model = ""
base_url = ""
# "enabled", "disabled", or "" for the model's own default.
thinking = ""
max_tokens = 32000
max_repairs = 3
# A video that passes with layout warnings gets one more turn to fix them; its version is kept only
# if it passes too. false (or --no-polish) skips it.
polish = true

[qa]
# Layout QA after the stills: the composition is seeked in the browser and its DOM and pixels
# inspected for hidden, cut or unreadable content. `--no-qa` (or VIDGEN_QA=0) skips it for one command.
enabled = true
# The thresholds, at their defaults (the API sheet tells the model these numbers): uncomment to change.
# Frames inspected per second of video: a 0.1 s grid.
# samples_per_second = 10
# Safe area: text inside it fails a 9:16 or 1:1 video and is a warning in a wider one. Shares of
# the width at the sides and of the height at the top and bottom; 9:16 keeps more clear.
# safe_margin = 0.05
# portrait_side = 0.08
# portrait_top = 0.12
# portrait_bottom = 0.2
# A defect (cut, off-frame, hidden, unreadable, in a 9:16 or 1:1 safe area) this long in a row fails.
# defect_seconds = 0.3
# Text smaller than this share of the frame height is a warning.
# min_text_height = 0.015
# WCAG contrast text needs against the pixels behind it; text under small_text of the height
# (24 px at 720p) needs min_contrast_small.
# min_contrast = 3.0
# min_contrast_small = 4.5
# small_text = 0.0333
# Content hidden behind a whole-frame layer for more than this share of its time on screen fails.
# occluded_fraction = 0.5
# Share of an element's time on screen a warning (crowding, tiny text, a 16:9 safe area) must last.
# problem_fraction = 0.5

[critique]
# After a render, a vision model looks at the contact sheet and names defects for a repair turn.
# On where the provider has a known vision model (z.ai: glm-5v-turbo); elsewhere set model to turn it on.
enabled = true
model = ""

[voice]
# Narration (`--narrate`): "espeak" speaks offline with espeak-ng; any other provider (or base_url)
# is an OpenAI-compatible /audio/speech endpoint, with the same key handling as the model.
provider = "espeak"
base_url = ""
model = ""
# espeak: a voice such as en-us or en-gb; an HTTP endpoint: its voice name, e.g. alloy.
voice = ""
speed = 165
# Seconds of silence after each scene's line.
gap_s = 0.4
"""


@dataclass(frozen=True)
class RenderSettings:
    browser: str = ""
    codec: str = "h264"
    concurrency: int = 0
    frame_timeout_s: float = 30
    render_timeout_s: float = 600
    sample_stills: int = 6
    gl: str = ""
    browser_flags: str = "--disable-frame-rate-limit --disable-gpu-vsync"
    allow_network: bool = False
    allow_unsandboxed: bool = False
    keep_versions: int = 20
    daemon: bool = True
    daemon_idle_s: float = 600


@dataclass(frozen=True)
class Limits:
    max_seconds: float = 300
    max_width: int = 3840
    max_height: int = 2160
    max_fps: int = 60


@dataclass(frozen=True)
class ModelSettings:
    provider: str = "zai"
    model: str = ""  # "" means the provider's default model
    base_url: str = ""
    thinking: str = ""  # "enabled" | "disabled" | "" (the model's default)
    effort: str = ""
    max_tokens: int = 32000
    temperature: float = -1.0  # below 0: the model's default
    max_repairs: int = 3
    polish: bool = True  # one more turn for a passing video's warnings
    max_retries: int = 4
    stream: bool = True


@dataclass(frozen=True)
class QaSettings:
    """Layout QA thresholds (shares are of the frame, or of an element's time on screen)."""

    enabled: bool = True
    samples_per_second: float = 10.0
    safe_margin: float = 0.05  # of the width at the sides, of the height at the top and bottom
    portrait_side: float = 0.08  # 9:16: of the width
    portrait_top: float = 0.12  # 9:16: of the height
    portrait_bottom: float = 0.2  # 9:16: of the height, where apps draw their buttons
    defect_seconds: float = 0.3
    min_text_height: float = 0.015
    min_contrast: float = 3.0
    min_contrast_small: float = 4.5
    small_text: float = 0.0333  # of the frame height: 24 px at 720p
    occluded_fraction: float = 0.5
    problem_fraction: float = 0.5


@dataclass(frozen=True)
class CritiqueSettings:
    enabled: bool = True  # on where a vision model is known (or `model` is set), off elsewhere
    model: str = ""  # "" means the provider's known vision model


@dataclass(frozen=True)
class VoiceSettings:
    """Narration: who speaks (`--narrate`), and the pause between scenes."""

    provider: str = "espeak"  # "espeak" (offline), or a model provider / base_url with /audio/speech
    base_url: str = ""
    model: str = ""  # for an HTTP voice; "" means tts-1
    voice: str = ""  # espeak: a language voice such as en-us; HTTP: the endpoint's voice name (alloy)
    speed: int = 165  # espeak words per minute
    gap_s: float = 0.4  # silence after each scene's line


@dataclass(frozen=True)
class Settings:
    render: RenderSettings = field(default_factory=RenderSettings)
    limits: Limits = field(default_factory=Limits)
    model: ModelSettings = field(default_factory=ModelSettings)
    qa: QaSettings = field(default_factory=QaSettings)
    critique: CritiqueSettings = field(default_factory=CritiqueSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)


_ENV = {
    ("render", "browser"): "VIDGEN_BROWSER",
    ("render", "codec"): "VIDGEN_CODEC",
    ("render", "concurrency"): "VIDGEN_CONCURRENCY",
    ("render", "frame_timeout_s"): "VIDGEN_FRAME_TIMEOUT",
    ("render", "render_timeout_s"): "VIDGEN_RENDER_TIMEOUT",
    ("render", "gl"): "VIDGEN_GL",
    ("render", "daemon"): "VIDGEN_DAEMON",
    ("render", "daemon_idle_s"): "VIDGEN_DAEMON_IDLE_S",
    ("model", "provider"): "VIDGEN_PROVIDER",
    ("model", "model"): "VIDGEN_MODEL",
    ("model", "base_url"): "VIDGEN_BASE_URL",
    ("model", "thinking"): "VIDGEN_THINKING",
    ("model", "effort"): "VIDGEN_EFFORT",
    ("model", "max_retries"): "VIDGEN_MODEL_RETRIES",
    ("qa", "enabled"): "VIDGEN_QA",
    ("critique", "enabled"): "VIDGEN_CRITIQUE",
    ("critique", "model"): "VIDGEN_CRITIQUE_MODEL",
    ("voice", "provider"): "VIDGEN_VOICE_PROVIDER",
    ("voice", "base_url"): "VIDGEN_VOICE_BASE_URL",
    ("voice", "voice"): "VIDGEN_VOICE",
}


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
            shape = {section: dict for section in ("render", "limits", "model")}
            data = loader.read_toml(path, shape, "fix it, or delete it for the defaults")
    render = _section(RenderSettings, "render", data.get("render", {}), origins)
    if render.frame_timeout_s < 7:
        raise UsageError(
            f"render.frame_timeout_s is {render.frame_timeout_s:g}, below Remotion's minimum of 7: raise it in {CONFIG_NAME}"
        )
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
    )


def with_model(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line flags to the model settings."""
    return _with(settings, "model", changes)


def with_render(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line flags (the highest precedence) to the render settings."""
    return _with(settings, "render", changes)


def with_qa(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line flags to the layout QA settings."""
    return _with(settings, "qa", changes)


def _with(settings: Settings, section: str, changes: dict[str, Any]) -> Settings:
    """One section of the settings with the flags that were given (None: not given) applied."""
    given = {k: v for k, v in changes.items() if v is not None}
    return replace(settings, **{section: replace(getattr(settings, section), **given)})
