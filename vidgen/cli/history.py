"""Commands over a video's kept versions and model exchanges: history, undo, redo, diff and show."""

from __future__ import annotations

import json

import click

from ..errors import UsageError
from ..workspace import history as history_module
from ..workspace import outputs as renders
from ..workspace import transcript as transcript_module
from .common import tokens_line, video_name_argument, workspace_of
from .printing import err, print_json

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


@click.command()
@video_name_argument
@JSON_OPTION
@click.pass_context
def history(ctx: click.Context, name: str, as_json: bool) -> None:
    """Every version of a video vidgen kept: time, kind, video, status, tokens, prompt (* the current one)."""
    video = workspace_of(ctx).video(name)
    versions = history_module.versions(video)
    if not versions:
        raise UsageError(f"no history for {name!r}: vidgen keeps a version each time it writes (new, edit) or renders the video")
    if as_json:
        print_json({"name": name, "versions": renders.version_rows(video)})
        return
    current = history_module.current(video, versions)
    with_video = renders.kept(video)
    for version in versions:
        meta = version.meta
        tokens = meta.get("tokens") or {}
        spent = f"{tokens.get('prompt', 0)}+{tokens.get('completion', 0)} tokens" if tokens else ""
        prompt = str(meta.get("prompt", "")).replace("\n", " ")
        prompt = prompt if len(prompt) <= 60 else prompt[:59] + "…"
        mark = "*" if current is not None and version.number == current.number else " "
        kept = "mp4" if version.number in with_video else "-"
        click.echo(
            f"{version.number:>3}{mark} {meta.get('time', '')}  {meta.get('kind', ''):<9}  {kept:<3}  "
            f"{meta.get('status', '') or '':<20}  {spent:<16}  {prompt}"
        )
    err("* the current version; mp4: its video is kept, and undo/redo to it restores the video without a render")


def _moved(name: str, version: history_module.Version, restored: object, *, as_json: bool = False) -> None:
    if as_json:
        print_json(
            {
                "name": name,
                "version": version.number,
                "prompt": version.meta.get("prompt"),
                "video": str(restored) if restored else None,
            }
        )
    if restored is not None:
        err(f"{name}: now version {version.number}; its video is back at {restored}")
    else:
        err(f"{name}: now version {version.number} (no video kept for it): `vidgen render {name}` to see it")


@click.command()
@video_name_argument
@click.option(
    "--to",
    "to",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Go to version N (`vidgen history NAME` lists them).",
)
@JSON_OPTION
@click.pass_context
def undo(ctx: click.Context, name: str, to: int | None, as_json: bool) -> None:
    """Go back one version (or to version N): its files, and its video when one is kept."""
    video = workspace_of(ctx).existing_video(name)
    move = history_module.undo if to is None else (lambda v: history_module.go_to(v, to))
    _moved(name, *renders.step(video, move), as_json=as_json)


@click.command()
@video_name_argument
@JSON_OPTION
@click.pass_context
def redo(ctx: click.Context, name: str, as_json: bool) -> None:
    """Go forward one version after an undo: its files, and its video when one is kept."""
    video = workspace_of(ctx).existing_video(name)
    _moved(name, *renders.step(video, history_module.redo), as_json=as_json)


@click.command()
@video_name_argument
@click.option(
    "--version",
    "number",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="What version N changed from the one it was made from, instead of the files now.",
)
@JSON_OPTION
@click.pass_context
def diff(ctx: click.Context, name: str, number: int | None, as_json: bool) -> None:
    """What changed since the previous version (or what version N changed)."""
    video = workspace_of(ctx).existing_video(name)
    text = history_module.diff(video) if number is None else history_module.version_diff(video, number)
    if as_json:
        print_json({"name": name, "diff": text})
        return
    since = "since the previous version" if number is None else f"in version {number}"
    click.echo(text if text else f"{name}: no changes {since}")


@click.command()
@video_name_argument
@JSON_OPTION
@click.pass_context
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """The last exchange with the model for a video, and the last error."""
    video = workspace_of(ctx).video(name)
    entries = transcript_module.read(video)
    if not entries:
        raise UsageError(f"no model exchanges recorded for {name!r} (vidgen new / edit write them)")
    last = entries[-1]
    error = next((e["error"] for e in reversed(entries) if e.get("error")), None)
    if as_json:
        print_json({"name": name, "exchange": last, "last_error": error})
        return
    usage = last.get("usage") or {}
    spent = tokens_line(usage.get("prompt", 0), usage.get("cached", 0), usage.get("completion", 0)) if usage else "no usage"
    click.echo(f"# {last['time']}  {last['kind']}  {spent}")
    click.echo("## sent\n" + str(last["request"].get("content", "")))
    click.echo("## reply\n" + str(last.get("reply", "")))
    click.echo("## last error\n" + (json.dumps(error, indent=2) if error else "none"))
