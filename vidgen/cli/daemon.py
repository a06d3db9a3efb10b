"""`vidgen daemon status/stop`: the workspace's render daemon, which the rendering commands start themselves."""

from __future__ import annotations

from typing import Any

import click

from ..engine import client as daemon_client
from ..engine.protocol import PROTOCOL_VERSION
from .common import workspace_of
from .printing import print_json


@click.group()
def daemon() -> None:
    """The workspace's render daemon: commands share it, so each finds Node, webpack and Chromium warm."""


@daemon.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Whether the daemon runs, since when, what it is doing and when it exits."""
    workspace = workspace_of(ctx)
    info = daemon_client.status(workspace)
    if as_json:
        print_json({"running": info is not None, **_public(info)})
        return
    if info is None:
        click.echo("no render daemon runs for this workspace (the next render starts one)")
        return
    if info.get("protocol") != PROTOCOL_VERSION:
        click.echo(f"a render daemon of another vidgen runs (pid {info.get('pid')}); the next render replaces it")
        return
    click.echo(f"render daemon {info['pid']} (vidgen {info['vidgen']}), up {_duration(info['uptime_s'])}")
    click.echo(f"socket: {info['socket']}")
    memory = f", {info['memory_mb']:.0f} MB with its Node and Chromium" if info.get("memory_mb") else ""
    service = f"render service {info['service_pid']}" if info.get("service_pid") else "render service not started"
    click.echo(f"{service}{memory}; {info['served']} requests served")
    for request in info["requests"]:
        where = f" for process {request['client_pid']}" if request.get("client_pid") else ""
        state = "running" if request["running"] else "waiting for its turn"
        click.echo(f"  {request['op']}{where}: {state}, {request['seconds']:.1f}s")
    if info["exits_in_s"] is None:
        click.echo(f"{info['clients']} command(s) connected; exits {_duration(info['idle_s'])} after the last one")
    else:
        click.echo(f"idle for {_duration(info['idle_for_s'])}; exits in {_duration(info['exits_in_s'])}")


@daemon.command("stop")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def stop(ctx: click.Context, as_json: bool) -> None:
    """End the daemon, its Node service and Chromium (renders under way end as cancelled)."""
    workspace = workspace_of(ctx)
    before = daemon_client.stop(workspace)
    if as_json:
        print_json({"stopped": before is not None, **({"pid": before.get("pid")} if before else {})})
        return
    if before is None:
        click.echo("no render daemon was running for this workspace")
    else:
        click.echo(f"stopped render daemon {before.get('pid')}")


def _public(info: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (info or {}).items() if k != "event"}


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
