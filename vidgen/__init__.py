"""vidgen: turn a plain-language idea into a finished video with Remotion.

The public API, for a program that uses vidgen as a library; each name is imported on first use,
so `import vidgen` (and `vidgen -h`) stays cheap:

    import vidgen

    workspace = vidgen.find_workspace()
    settings = vidgen.load_settings(workspace.root)
    with vidgen.Session.open(workspace, settings) as session:
        result = vidgen.render_video(session, workspace.video("hello"))

`render_video` and `check_video` are named so because `vidgen.render` and `vidgen.check` are packages.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The errors are imported as they are: errors.py imports nothing of vidgen and costs a few milliseconds.
from .errors import (
    Cancelled,
    Code,
    DaemonUnavailable,
    DiskFull,
    Finding,
    KeyProblem,
    ModelError,
    ReplyError,
    ServiceError,
    ServiceReplyError,
    Stage,
    StoryboardError,
    StructuredError,
    UsageError,
    VerdictError,
    VidgenError,
    VoiceError,
)

# The rest of __all__: name -> (module, attribute in it), imported on first use.
_EXPORTS = {
    # the workspace and its videos
    "Workspace": ("vidgen.workspace.project", "Workspace"),
    "Video": ("vidgen.workspace.project", "Video"),
    "find_workspace": ("vidgen.workspace.project", "find"),
    "create_workspace": ("vidgen.workspace.project", "create"),
    # settings, and the session a command works in
    "Settings": ("vidgen.settings", "Settings"),
    "load_settings": ("vidgen.settings", "load"),
    "Session": ("vidgen.engine.session", "Session"),
    # the pipeline
    "check_video": ("vidgen.render.video", "check"),
    "render_video": ("vidgen.render.video", "render"),
    "RenderResult": ("vidgen.render.video", "RenderResult"),
    "new": ("vidgen.agent.loop", "new"),
    "edit": ("vidgen.agent.loop", "edit"),
    "LoopResult": ("vidgen.agent.loop", "LoopResult"),
    # models
    "ModelClient": ("vidgen.model.client", "ModelClient"),
    "ModelOptions": ("vidgen.model.client", "ModelOptions"),
    "client_for": ("vidgen.model.client", "client_for"),
    "Provider": ("vidgen.model.providers", "Provider"),
}

__all__ = [
    "__version__",
    "Workspace",
    "Video",
    "find_workspace",
    "create_workspace",
    "Settings",
    "load_settings",
    "Session",
    "check_video",
    "render_video",
    "RenderResult",
    "new",
    "edit",
    "LoopResult",
    "ModelClient",
    "ModelOptions",
    "client_for",
    "Provider",
    "StructuredError",
    "Finding",
    "Stage",
    "Code",
    "VidgenError",
    "UsageError",
    "ServiceError",
    "Cancelled",
    "ServiceReplyError",
    "DaemonUnavailable",
    "ModelError",
    "KeyProblem",
    "VoiceError",
    "DiskFull",
    "ReplyError",
    "StoryboardError",
    "VerdictError",
]

if TYPE_CHECKING:
    from .agent.loop import LoopResult, edit, new
    from .engine.session import Session
    from .model.client import ModelClient, ModelOptions, client_for
    from .model.providers import Provider
    from .render.video import RenderResult
    from .render.video import check as check_video
    from .render.video import render as render_video
    from .settings import Settings
    from .settings import load as load_settings
    from .workspace.project import Video, Workspace
    from .workspace.project import create as create_workspace
    from .workspace.project import find as find_workspace


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vidgen' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # the next look-up finds it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
