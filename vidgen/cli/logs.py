"""`vidgen logs`: past prompts and replies across the workspace's videos, newest first, like `llm logs`."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from ..errors import UsageError, VidgenError
from ..model import keys as keys_module
from ..model import providers
from ..workspace import transcript as transcript_module
from .common import complete_video_names, tokens_line, workspace_of
from .printing import err, print_json


@click.command()
@click.argument("name", required=False, shell_complete=complete_video_names)
@click.option("-n", "--count", "count", type=int, default=3, show_default=True, help="How many exchanges; 0 for all.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (its `entries`, newest first).")
@click.option("--jsonl", "as_lines", is_flag=True, help="Print one JSON object an exchange, a line each (for jq).")
@click.pass_context
def logs(ctx: click.Context, name: str | None, count: int, as_json: bool, as_lines: bool) -> None:
    """Past prompts and replies across videos (or NAME's), newest first: time, video, model, turn kind."""
    if count < 0:
        raise UsageError(f"-n {count}: give how many exchanges to show, or 0 for all")
    workspace = workspace_of(ctx)
    if name is not None:
        workspace.video(name)  # a bad name is refused as everywhere else
    found = transcript_module.read_all(workspace, name)
    shown = found[:count] if count else found
    entries = [_redacted({"video": video, **entry}) for video, entry in shown]
    if as_json:
        print_json({"entries": entries, "total": len(found)})
        return
    if as_lines:
        for entry in entries:
            click.echo(json.dumps(entry))
        return
    if not found:
        where = f"for {name!r}" if name else "in this workspace"
        err(f"no model exchanges recorded {where} yet: `vidgen new` and `vidgen edit` write them")
        return
    for entry in entries:
        _print(entry)
    if len(shown) < len(found):
        err(f"{len(shown)} of {len(found)} exchanges shown: `-n 0` shows all")


def _print(entry: dict[str, Any]) -> None:
    usage = entry.get("usage") or {}
    spent = tokens_line(usage.get("prompt", 0), usage.get("cached", 0), usage.get("completion", 0)) if usage else "no usage"
    click.echo(f"# {entry['time']}  {entry['video']}  {entry.get('model') or '(model not recorded)'}  {entry['kind']}  {spent}")
    click.echo("\n## prompt\n\n" + str(entry["request"].get("content", "")).rstrip())
    click.echo("\n## reply\n\n" + str(entry.get("reply", "")).rstrip())
    error = entry.get("error")
    if error:
        click.echo(f"\n## error\n\n{error.get('stage')}: {error.get('message')}")
    click.echo("")


def _redacted(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with any key vidgen knows masked: a transcript never holds one, but an idea someone pasted a key into would."""
    secrets = [s for s in _known_keys() if len(s) >= 8]
    if not secrets:
        return entry
    text = json.dumps(entry)
    for secret in secrets:
        text = text.replace(json.dumps(secret)[1:-1], "***")
    redacted: dict[str, Any] = json.loads(text)
    return redacted


def _known_keys() -> set[str]:
    variables = {"VIDGEN_API_KEY", *(p.key_variable for p in providers.BUILT_IN if p.key_variable)}
    found = {os.environ.get(v, "") for v in variables}
    try:
        found |= set(keys_module.read().values())
    except VidgenError:
        pass  # a keys file vidgen refuses to read holds nothing it would send either
    return {s for s in found if s}
