"""Warming a new workspace for its first render: webpack's persistent cache and the lint/typecheck record.

`vidgen init` runs this after `npm ci`, while the user is waiting anyway. The workspace's videos are
bundled, linted and typechecked once, on a render service keeping the webpack cache the first
`vidgen render` reads: the daemon's cache is its own (engine/service.py's `cache`), so a cache primed
under another name would serve nobody. What stays behind: webpack's cache in `node_modules/.cache/webpack/`,
stored when the service stops, and `.vidgen/checked/<video>` for each video whose sources passed lint and
typecheck, which lets its first render skip them (check/checked.py). Nothing is rendered: the composition
and the stills would warm only what ends with the service.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..check import checked, imports
from ..engine.ops import ServiceOps
from ..engine.protocol import CheckArgs
from ..engine.service import COMMAND_CACHE, DAEMON_CACHE, RenderService
from ..errors import ServiceReplyError, VidgenError
from ..settings import Settings
from ..workspace.project import Video, Workspace

_TOOL_TIMEOUT_S = 180  # the ladder's for the same ops
# webpack stores its cache when the service shuts down (about 150 MB for the template): a command's usual
# 3 s grace would often kill it first on a busy machine, and the cache is this work's whole point.
_STORE_GRACE_S = 120


def cache_name(settings: Settings) -> str:
    """The webpack cache the first `vidgen render` reads: the daemon's, unless the settings turn the daemon off."""
    return DAEMON_CACHE if settings.render.daemon else COMMAND_CACHE


def warm(workspace: Workspace, settings: Settings) -> str | None:
    """Bundle, lint and typecheck the workspace's videos once, so that their caches are warm; None, or what failed.

    A service of this process, under the cache name of the first render's service, does the work and stops,
    which stores webpack's cache on disk. A video that fails a check is no failure here: the bundle is warm
    all the same, and only sources that passed are recorded as passed.
    """
    try:
        workspace.require_node_modules()
        service = RenderService(workspace, settings.render, cache=cache_name(settings))
        try:
            _check_and_bundle(service, [workspace.video(name) for name in workspace.video_names()])
        except KeyboardInterrupt:
            service.stop()  # Ctrl-C: the user is not kept waiting for the cache
            raise
        finally:
            service.stop(grace_s=_STORE_GRACE_S)  # (a second stop of a stopped service does nothing)
    except (VidgenError, ServiceReplyError, OSError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _check_and_bundle(service: ServiceOps, videos: list[Video]) -> None:
    """As the ladder does: lint and typecheck (in the service's checker process) beside webpack's bundle, all asked
    at once, each only for a video whose imports are allowed; its record keyed by its sources before the checks."""
    safe = [video for video in videos if imports.check(video) is None]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="warm") as pool:
        verdicts = []
        for video in safe:
            sources = checked.key(video)  # before they run: an edit meanwhile is checked by the first render
            files = CheckArgs([str(path) for path in video.source_files()])
            lint = pool.submit(service.lint, files, timeout_s=_TOOL_TIMEOUT_S)
            typecheck = pool.submit(service.typecheck, files, timeout_s=_TOOL_TIMEOUT_S)
            verdicts.append((video, sources, lint, typecheck))
        service.bundle(timeout_s=_TOOL_TIMEOUT_S)
        for video, sources, lint, typecheck in verdicts:
            if not lint.result() and not typecheck.result():  # no diagnostic at all: passed
                checked.remember(video, sources)
