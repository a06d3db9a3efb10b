"""`vidgen mcp`: serve the workspace's videos to a coding agent over MCP (stdio)."""

from __future__ import annotations

import os
import signal
from typing import Any

import click

from .. import settings as settings_module
from ..engine.processes import wait_for_group_exit
from ..engine.session import Session
from ..workspace import state
from .common import no_qa_option, qa_flag, workspace_of
from .flags import ModelFlags
from .printing import err


@click.command()
@click.option("--provider", default=None, help="Model for new_video/edit_video: zai, zai-coding, openai, openrouter or ollama.")
@click.option("--model", "model_name", default=None, help="Model name (default glm-5.2).")
@click.option("--base-url", default=None, help="Any OpenAI-compatible endpoint (or VIDGEN_BASE_URL).")
@no_qa_option
@click.pass_context
def mcp(ctx: click.Context, provider: str | None, model_name: str | None, base_url: str | None) -> None:
    """Serve this workspace to a coding agent as an MCP server on stdio (stdout is the protocol)."""
    from ..mcp import server as mcp_server  # the SDK loads only for this command

    workspace = workspace_of(ctx)
    # As every model command: the user's default model and `NAME/MODEL` for an endpoint they named apply.
    flags = ModelFlags(provider=provider, model=model_name, base_url=base_url)
    settings = flags.apply(qa_flag(settings_module.load(workspace.root)))
    state.read(workspace)  # a damaged state file is one line now, not an error in every tool call
    session = Session.open(workspace, settings)

    def stop_now(signum: int, _frame: Any) -> None:
        # The client's last word after closing stdin: the render service is in its own process
        # group, so it is killed here, without locks (this may interrupt session.close()).
        pid = session.service.pid
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            wait_for_group_exit(pid, 5)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop_now)
    err(f"vidgen mcp: serving {workspace.root} on stdio")
    try:
        mcp_server.serve(session)
    finally:
        session.close()
