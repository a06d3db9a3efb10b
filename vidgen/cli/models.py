"""`vidgen models` (what an endpoint offers) and `vidgen models default` (the user's default model, like `llm models default`)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import settings as settings_module
from ..errors import UsageError, VidgenError
from ..model import providers, userconfig
from ..model.client import client_for
from .common import workspace_of
from .flags import PROVIDER_HELP, ModelFlags
from .printing import err, print_json


@click.group(invoke_without_command=True)
@click.option("--provider", default=None, help=PROVIDER_HELP)
@click.option("--base-url", default=None, help="Any OpenAI-compatible endpoint (its key: VIDGEN_API_KEY).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def models(ctx: click.Context, provider: str | None, base_url: str | None, as_json: bool) -> None:
    """List the models the endpoint offers (GET /models), one id a line; `models default` picks vidgen's."""
    if ctx.invoked_subcommand is not None:
        return
    settings = ModelFlags(provider=provider, base_url=base_url).apply(settings_module.load(_workspace_root(ctx)))
    client = client_for(settings.model, listing=True)
    try:
        listed = client.models()
    finally:
        client.close()
    default = client.options.model
    if as_json:
        entries = [{"id": m["id"], "owned_by": m.get("owned_by"), "default": m["id"] == default} for m in listed]
        print_json({"provider": settings.model.provider, "base_url": client.endpoint.base_url, "models": entries})
        return
    for entry in listed:
        click.echo(entry["id"])
    uses = (
        f"vidgen uses {default} unless --model says otherwise"
        if default
        else f"name one with --model {settings.model.provider}/MODEL"
    )
    err(f"{len(listed)} model(s) at {client.endpoint.base_url}; {uses}")


@models.command("default")
@click.argument("model", required=False)
@click.option("--provider", default=None, help="The provider MODEL runs on (default zai; NAME/MODEL for your own endpoint).")
@click.option("--clear", is_flag=True, help="Forget the default: each provider's own model is used.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def default(model: str | None, provider: str | None, clear: bool, as_json: bool) -> None:
    """Print or set the model used when neither --model, VIDGEN_MODEL nor vidgen.toml names one."""
    if clear and (model or provider):
        raise UsageError("--clear takes no MODEL or --provider: run `vidgen models default --clear` alone")
    if clear:
        userconfig.set_default_model(None)
    elif model is not None:
        userconfig.set_default_model(_chosen(model.strip(), provider))
    elif provider is not None:
        raise UsageError("--provider needs a MODEL: `vidgen models default MODEL --provider NAME`")
    chosen = userconfig.default_model()
    source = "user" if chosen else "built-in"
    if chosen is None:
        built_in = settings_module.ModelSettings().provider
        chosen = userconfig.DefaultModel(built_in, providers.default_model(built_in))
    if as_json:
        print_json({"provider": chosen.provider, "model": chosen.model, "source": source, "path": str(userconfig.path())})
        return
    click.echo(chosen.model)
    if source == "user":
        err(f"provider {chosen.provider}; kept in {userconfig.path()} (`vidgen models default --clear` forgets it)")
    else:
        err(f"provider {chosen.provider}: no default of your own is set (`vidgen models default MODEL` sets one)")


def _chosen(model: str, provider: str | None) -> userconfig.DefaultModel:
    """The default asked for, checked: a known provider (or endpoint you named) and a model name without spaces."""
    if not model or any(c.isspace() for c in model):
        raise UsageError(f"{model!r} is not a model name: give one like glm-5.2 (`vidgen models` lists them)")
    name, slash, rest = model.partition("/")
    if provider is None and slash and rest and userconfig.alias_url(name) is not None:
        provider, model = name, rest
    provider = provider or settings_module.ModelSettings().provider
    providers.get(provider)  # an unknown one is refused here, not when a video is made
    return userconfig.DefaultModel(provider, model)


def _workspace_root(ctx: click.Context) -> Path | None:
    """The workspace's folder for its vidgen.toml, or None outside one (unless --workspace named one)."""
    try:
        return workspace_of(ctx).root
    except VidgenError:
        if ctx.obj.get("workspace"):
            raise
        return None
