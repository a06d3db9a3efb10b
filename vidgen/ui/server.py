"""The page's HTTP side: Starlette routes behind the guard, served by uvicorn on 127.0.0.1.

Starlette and uvicorn are kept libraries already installed with the MCP SDK: streaming responses for the
run's events, static files with ranges for the MP4s, and uvicorn's own handling of Ctrl-C and SIGTERM
(it stops serving, then `serve` stops the player's bundler and the run, so no process is left).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from ..errors import UsageError, VidgenError
from ..media.previews import SUFFIXES
from ..workspace import history, outputs, state
from ..workspace.project import Video, Workspace
from .guard import Guard, guarded
from .player import Player
from .runs import Runs

STATIC = Path(str(importlib_resources.files("vidgen.ui") / "static"))


def video_row(video: Video, entry: dict[str, Any] | None) -> dict[str, Any]:
    """One video as the page lists it: its status, its current version, its versions, its findings."""
    current = history.current(video)
    poster = _kept_file(video, None, SUFFIXES["poster"])
    return {
        "name": video.name,
        "status": state.status(entry, video),
        "detail": state.describe(entry, video),
        "version": current.number if current else None,
        "poster": _stamp(poster),
        "versions": [
            {**row, "poster": _stamp(_kept_file(video, row["number"], SUFFIXES["poster"]))} for row in outputs.version_rows(video)
        ],
        "findings": [finding.to_dict() for finding in state.open_warnings(video)],
    }


def _stamp(path: Path | None) -> int | None:
    """A file's modification time, put in its URL so that a new file is fetched anew; None for no file."""
    return path.stat().st_mtime_ns if path else None


def _kept_file(video: Video, number: int | None, suffix: str) -> Path | None:
    """The current render's file (`number` None) or version `number`'s kept one, with `suffix`."""
    if number is None:
        newest = outputs.newest(video)
        path = newest.with_name(newest.stem + suffix) if newest else None
    else:
        path = outputs.folder(video) / f"v{number}{suffix}"
    if path is None or not path.is_file() or path.is_symlink():
        return None
    # Only files of the workspace's out/ or kept renders: state.json names the newest render, and a state
    # file damaged on purpose could name any file of the machine.
    real = path.resolve()
    within = (video.workspace.out_dir.resolve(), outputs.folder(video).resolve())
    return path if any(real.is_relative_to(folder) for folder in within) else None


class Page:
    """The routes of one workspace's page."""

    def __init__(self, workspace: Workspace, player: Player, runs: Runs, guard: Guard):
        self.workspace = workspace
        self.player = player
        self.runs = runs
        self.guard = guard

    def routes(self) -> list[Route]:
        return [
            Route("/", self.index),
            Route("/static/{file}", self.static),
            Route("/api/videos", self.videos),
            Route("/api/build", self.build),
            Route("/api/run", self.run, methods=["POST"]),
            Route("/api/cancel", self.cancel, methods=["POST"]),
            Route("/api/events", self.events),
            Route("/api/diff", self.diff),
            Route("/api/render", self.render, methods=["POST"]),
            Route("/api/{move:str}", self.move, methods=["POST"]),
            Route("/file/{name}/{kind}", self.file),
            Route("/file/{name}/{kind}/{number:int}", self.file),
        ]

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    async def static(self, request: Request) -> Response:
        file = request.path_params["file"]
        if file not in ("app.js", "app.css"):
            return Response("not found\n", 404)
        return FileResponse(STATIC / file, headers={"cache-control": "no-store"})

    async def videos(self, request: Request) -> Response:
        def rows() -> list[dict[str, Any]]:
            entries = state.read(self.workspace)
            return [video_row(self.workspace.video(name), entries.get(name)) for name in self.workspace.video_names()]

        return JSONResponse({"videos": await anyio.to_thread.run_sync(rows)})

    async def build(self, request: Request) -> Response:
        build = self.player.build
        player = f"/{self.guard.player_token}/player/index.html"
        payload = {
            "build": build.number,
            "errors": build.errors,
            "failed": build.failed,
            "player": player,
            "runs": len(self.runs.runs),
        }
        return JSONResponse(payload)

    async def file(self, request: Request) -> Response:
        """A render's poster or MP4: the current one, or a kept version's."""
        suffix = {"poster": SUFFIXES["poster"], "mp4": ".mp4"}.get(request.path_params["kind"])
        try:
            video = self.workspace.existing_video(request.path_params["name"])
            path = _kept_file(video, request.path_params.get("number"), suffix) if suffix else None
        except VidgenError:
            path = None
        if path is None:
            return Response("not found\n", 404)
        return FileResponse(path, headers={"cache-control": "no-store"})

    async def run(self, request: Request) -> Response:
        body = await _json(request)
        try:
            run = self.runs.start(str(body.get("video") or ""), str(body.get("prompt") or ""), str(body.get("kind") or "edit"))
        except VidgenError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"run": run.number, "video": run.video})

    async def render(self, request: Request) -> Response:
        """Render a kept version (Runs.render): a run, streamed as the chat's are."""
        body = await _json(request)
        try:
            number = version_number(body.get("version"))
            run = self.runs.render(str(body.get("video") or ""), number)
        except VidgenError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"run": run.number, "video": run.video})

    async def diff(self, request: Request) -> Response:
        """What a kept version changed from the one it was made from (history.version_diff, as `vidgen diff --version`).
        The text goes into the page as text, never as markup."""
        query = request.query_params
        try:
            number = version_number(query.get("version"))
            video = self.workspace.existing_video(query.get("video", ""))
            text = await anyio.to_thread.run_sync(history.version_diff, video, number)
        except VidgenError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"video": video.name, "version": number, "diff": text})

    async def cancel(self, request: Request) -> Response:
        return JSONResponse({"cancelled": self.runs.cancel()})

    async def move(self, request: Request) -> Response:
        """Undo or redo a video's version, with its kept MP4, as `vidgen undo` and `vidgen redo` do."""
        moves = {"undo": history.undo, "redo": history.redo}
        move = moves.get(request.path_params["move"])
        if move is None:
            return Response("not found\n", 404)
        body = await _json(request)
        try:
            video = self.workspace.existing_video(str(body.get("video") or ""))

            def step() -> tuple[history.Version, Path | None]:
                with self.runs.between_runs():
                    return outputs.step(video, move)

            version, restored = await anyio.to_thread.run_sync(step)
        except VidgenError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"version": version.number, "video": restored is not None})

    async def events(self, request: Request) -> Response:
        """The current run's events as Server-Sent Events, from `?after=N` on, until its end."""
        run = self.runs.current
        try:
            after = max(0, int(request.query_params.get("after", "0") or 0))
        except ValueError:
            return Response("after must be a whole number of events\n", 400)
        if run is None:
            return Response("no run\n", 404)

        async def stream() -> AsyncIterator[str]:
            sent = after
            while True:
                events = await anyio.to_thread.run_sync(self.runs.wait, run, sent, 1.0)
                for event in events:
                    yield f"data: {json.dumps({'run': run.number, 'video': run.video, **event})}\n\n"
                sent += len(events)
                if run.done and sent >= len(run.events):
                    return
                if await request.is_disconnected():
                    return

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-store"})


MAX_VERSION = 10**9


def version_number(value: Any) -> int:
    """A version number from the page (a whole number, or its digits as text); a UsageError for anything else."""
    text = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 9 or not 1 <= int(text) < MAX_VERSION:
        raise UsageError("version must be a version's number: 1, 2, ... (the history lists them)")
    return int(text)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class PlayerFiles(StaticFiles):
    """The player's build (and the workspace's public/ under it): readable from the sandboxed frame, whose
    origin is opaque, so its font and media requests are CORS ones."""

    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        response.headers["access-control-allow-origin"] = "*"
        response.headers["cache-control"] = "no-store"
        return response


def application(workspace: Workspace, player: Player, runs: Runs, guard: Guard) -> Any:
    """The ASGI app: the guard in front of the page's routes and the player's files."""
    page = Starlette(routes=Page(workspace, player, runs, guard).routes())
    public = workspace.root / "public"
    player_routes = Starlette()
    player_routes.mount("/player/public", PlayerFiles(directory=public, check_dir=False))
    player_routes.mount("/player", PlayerFiles(directory=player.folder, check_dir=False))
    return guarded(guard, page, player_routes)


def listening_socket(port: int) -> socket.socket:
    """A socket on 127.0.0.1:`port` (0: a free one), bound before the app is made, which needs its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}: choose another --port") from None
    sock.listen(64)
    return sock


def serve(app: Any, sock: socket.socket, on_ready: Callable[[], None]) -> None:
    """Serve on `sock` until Ctrl-C or SIGTERM (uvicorn's handlers end `serve()`); `on_ready()` once it listens."""
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            on_ready()
        await task

    asyncio.run(main())
