"""Commands about the workspace itself: init, list, studio and doctor."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import click

from .. import settings as settings_module
from ..engine import processes, sandbox
from ..errors import EXIT_FAILED, EXIT_OK, UsageError, VidgenError
from ..render import warm
from ..workspace import project as workspace_module
from ..workspace import resources, state
from . import doctor as doctor_module
from .common import Terminated, signals_as_interrupts, workspace_of
from .output import install_packages, note, quiet_option, reporter
from .printing import err, print_json


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("."))
@click.option("--no-install", is_flag=True, help="Skip `npm ci` (run it yourself later); nothing is warmed either.")
@click.option("--no-warm", is_flag=True, help="Skip warming the render cache after `npm ci` (the first render does it).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@quiet_option
def init(path: Path, no_install: bool, no_warm: bool, as_json: bool) -> None:
    """Make a workspace (a Remotion project) at PATH from the template."""
    ws = workspace_module.create(path, install=False)
    warmed = False
    if not no_install:
        install_packages(ws)
        if not no_warm:
            warmed = warm_render_cache(ws)
    note(f"workspace ready: {ws.root}")
    note(f"next: cd {ws.root} && vidgen render hello")
    if as_json:
        print_json({"workspace": str(ws.root), "installed": not no_install, "warmed": warmed})
    else:
        click.echo(str(ws.root))


def warm_render_cache(workspace: workspace_module.Workspace) -> bool:
    """Warm the new workspace's render cache, shown as one progress line; whether it was warmed.

    Its failure never fails init: the workspace stands, a note says why, and the first render warms it."""
    shown = reporter()
    shown("stage", {"stage": "warm", "note": "warming the render cache (bundle, lint, typecheck of the example)"})
    try:
        problem = warm.warm(workspace, settings_module.load(workspace.root))
    except Exception as exc:  # anything at all: the workspace is made, and the cache is only a head start
        problem = str(exc) or type(exc).__name__
    if problem is not None:
        shown("failed", {"stage": "warm"})
    shown.close()
    if problem is not None:
        note(f"the render cache was not warmed ({problem}): the first render warms it instead")
    return problem is None


@click.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def list_videos(ctx: click.Context, as_json: bool) -> None:
    """The videos in the workspace and their state."""
    ws = workspace_of(ctx)
    known = state.read(ws)
    rows = []
    for name in ws.video_names():
        entry = known.get(name)
        status = state.describe(entry, ws.video(name))
        rows.append({"name": name, "state": status, **(entry or {}), "outdated": status.startswith("outdated")})
    if as_json:
        print_json({"videos": rows})
        return
    if not rows:
        err("no videos yet: add one in src/videos/<name>/index.tsx")
    for row in rows:
        click.echo(f"{row['name']:<24} {row['state']}")


@click.command()
@click.option("--port", type=int, default=3000, show_default=True)
@click.pass_context
def studio(ctx: click.Context, port: int) -> None:
    """Start Remotion Studio on 127.0.0.1 to see every video."""
    ws = workspace_of(ctx)
    ws.require_node_modules()
    npx = shutil.which("npx")
    if not npx:
        raise UsageError("npx was not found: install Node.js 20 with npm")
    err(f"Remotion Studio on http://127.0.0.1:{port} (Ctrl-C to stop)")
    loopback = resources.template_dir() / "service" / "bind-loopback.cjs"
    # Like the render service, Studio starts without the user's keys in its environment.
    env = sandbox.service_environment({"NODE_OPTIONS": f"--require {json.dumps(str(loopback))}", "BROWSER": "none"})
    # Studio runs in a session of its own, so that however vidgen ends (Ctrl-C, `kill -TERM`, a closed
    # terminal) it ends Studio's whole group and no webpack is left holding the port.
    process = subprocess.Popen(
        [npx, "remotion", "studio", "--port", str(port), "--no-open"], cwd=ws.root, env=env, start_new_session=True
    )
    code = EXIT_OK
    try:
        with signals_as_interrupts():
            code = process.wait()
    except KeyboardInterrupt:
        pass  # Ctrl-C is how Studio is stopped
    except Terminated as ended:
        code = 128 + ended.signal
    finally:
        processes.end_group(process)
    ctx.exit(code)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check this machine for everything vidgen needs; print the fix for each problem."""
    try:
        ws: workspace_module.Workspace | None = workspace_of(ctx)
    except VidgenError:
        ws = None
    settings = settings_module.load(ws.root if ws else None)
    findings = doctor_module.examine(ws, settings)
    blocking = [f for f in findings if not f.ok and f.needed_to_render]
    code = EXIT_FAILED if blocking else EXIT_OK
    if as_json:
        print_json({"checks": [asdict(finding) for finding in findings]}, code)
        ctx.exit(code)
    for finding in findings:
        mark = "ok  " if finding.ok else ("FAIL" if finding.needed_to_render else "warn")
        click.echo(f"{mark} {finding.name:<16} {finding.detail}")
        if not finding.ok and finding.fix:
            click.echo(f"     fix: {finding.fix}")
    ctx.exit(code)
