"""`vidgen ui`: the page on 127.0.0.1 (vidgen/ui/)."""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import webbrowser
from pathlib import Path

import click

from .. import settings as settings_module
from ..engine.session import Session
from ..model.client import client_for
from ..ui import server
from ..ui.guard import Guard
from ..ui.player import Player
from ..ui.runs import Runs
from .common import Terminated, qa_flag, signals_as_interrupts, workspace_of
from .flags import ModelFlags, model_options
from .printing import err


@click.command()
@click.option("--port", type=click.IntRange(min=0, max=65535), default=0, help="The port on 127.0.0.1 (default: a free one).")
@click.option("--no-open", is_flag=True, help="Print the URL but open no browser.")
@model_options
@click.pass_context
def ui(ctx: click.Context, port: int, no_open: bool, model_flags: ModelFlags) -> None:
    """A page on 127.0.0.1: the videos in Remotion's player, a chat with the model, what the checks saw.

    The URL holds a token: only it opens the page. Ctrl-C stops it.
    """
    workspace = workspace_of(ctx)
    settings = model_flags.apply(qa_flag(settings_module.load(workspace.root)))
    sock = server.listening_socket(port)
    guard = Guard(sock.getsockname()[1])
    player = Player(workspace, settings.render)
    session = Session.open(workspace, settings)
    runs = Runs(session, lambda: client_for(settings.model), lambda: model_flags.critic(settings))

    opener = Path(tempfile.mkdtemp(prefix="vidgen-ui-"))  # 0700: ours alone

    def ready() -> None:
        err(f"vidgen ui on {guard.url} (Ctrl-C to stop)")
        if not no_open:
            webbrowser.open(redirect_page(guard.url, opener).as_uri())

    try:
        # uvicorn stops serving on Ctrl-C and SIGTERM, then raises the signal again: here an exception, so what
        # follows stops the bundler, the run and the render service (a default SIGTERM would skip it).
        with signals_as_interrupts():
            player.start()
            server.serve(server.application(workspace, player, runs, guard), sock, ready)
    except (KeyboardInterrupt, Terminated):
        pass  # how the page is stopped
    finally:
        runs.stop()
        player.stop()
        session.close()
        sock.close()
        shutil.rmtree(opener, ignore_errors=True)


def redirect_page(url: str, folder: Path) -> Path:
    """A page in `folder`, readable by this user alone, that sends the browser on to `url`: a browser is
    started with its address on the command line, where another user's `ps` would read the token."""
    page = folder / "open.html"
    fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(
            f'<!doctype html><meta http-equiv="refresh" content="0;url={html.escape(url)}"><a href="{html.escape(url)}">vidgen ui</a>\n'
        )
    return page
