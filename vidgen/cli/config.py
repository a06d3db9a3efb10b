"""`vidgen config`: the settings a command would use here, and where each one comes from."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import click

from .. import settings as settings_module
from ..errors import VidgenError
from ..model import userconfig
from ..model.providers import split_credentials
from ..render import video as render_module
from ..workspace import project as workspace_module
from .common import no_qa_option, qa_flag, workspace_of
from .flags import routed
from .printing import err, print_json


@click.command()
@click.option("--provider", default=None, help="As a command given --provider would see it.")
@click.option("--model", "model_name", default=None, help="As a command given --model would see it.")
@click.option("--base-url", default=None, help="As a command given --base-url would see it.")
@click.option("--codec", type=click.Choice(render_module.CODECS), default=None, help="As `render --codec` would see it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@no_qa_option
@click.pass_context
def config(
    ctx: click.Context, provider: str | None, model_name: str | None, base_url: str | None, codec: str | None, as_json: bool
) -> None:
    """The effective settings and where each comes from: flag, environment variable, vidgen.toml or default."""
    workspace = _workspace_if_any(ctx)
    origins: dict[str, str] = {}
    settings = settings_module.load(workspace.root if workspace else None, origins)
    flags = {"model.provider": provider, "model.model": model_name, "model.base_url": base_url, "render.codec": codec}
    settings = settings_module.with_model(settings, provider=provider, model=model_name, base_url=base_url)
    settings = settings_module.with_render(settings, codec=codec)
    # As a command would route them: the user's default model, and `NAME/MODEL` for a named endpoint.
    model = routed(settings.model, provider_given=provider is not None)
    for key in ("provider", "model"):
        if getattr(model, key) != getattr(settings.model, key) and origins.get(f"model.{key}") == "default":
            origins[f"model.{key}"] = str(userconfig.path())
    settings = replace(settings, model=model)
    without_qa = qa_flag(settings)
    if without_qa is not settings:
        settings, flags["qa.enabled"] = without_qa, "--no-qa"
    for key, given in flags.items():
        if given is not None:
            origins[key] = "flag"
    rows = [_row(key, value, origins[key]) for key, value in _flatten(settings)]
    if as_json:
        print_json({"workspace": str(workspace.root) if workspace else None, "settings": rows})
        return
    err(f"workspace: {workspace.root}" if workspace else "no workspace here: vidgen.toml settings are not read")
    width = max(len(row["key"]) for row in rows)
    for row in rows:
        source = f"{row['source']} {row.get('variable', row.get('file', ''))}".strip()
        click.echo(f"{row['key']:<{width}}  {_shown(row['value']):<24}  {source}")


def _workspace_if_any(ctx: click.Context) -> workspace_module.Workspace | None:
    """The workspace named or found; outside one, None (the defaults and the environment still apply)."""
    if ctx.ensure_object(dict).get("workspace"):
        return workspace_of(ctx)  # named with --workspace or VIDGEN_WORKSPACE: a wrong one is an error
    try:
        return workspace_of(ctx)
    except VidgenError:
        return None


def _flatten(settings: settings_module.Settings) -> list[tuple[str, Any]]:
    """Every setting as (`section.key`, value), in the order of the dataclasses."""
    found: list[tuple[str, Any]] = []
    for section in fields(settings):
        values = getattr(settings, section.name)
        name = settings_module.section_name(section.name)
        found.extend((f"{name}.{f.name}", getattr(values, f.name)) for f in fields(values))
    return found


def _row(key: str, value: Any, origin: str) -> dict[str, Any]:
    if key == "model.base_url" and value:
        value = split_credentials(value)[0]  # a user:password in the URL is never shown
    if origin == str(userconfig.path()):
        return {"key": key, "value": value, "source": "user", "file": origin}  # `vidgen models default`, `keys set --base-url`
    source = origin if origin in ("flag", "default", settings_module.CONFIG_NAME) else "environment"
    row = {"key": key, "value": value, "source": source}
    if source == "environment":
        row["variable"] = origin
    return row


def _shown(value: Any) -> str:
    return '""' if value == "" else str(value).lower() if isinstance(value, bool) else str(value)
