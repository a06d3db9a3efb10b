"""`vidgen keys set/list/remove/path`: API keys kept in the user's config folder, like `llm keys`."""

from __future__ import annotations

import sys

import click

from ..errors import UsageError
from ..model import keys as keys_module
from ..model import providers, userconfig
from .printing import err, print_json


@click.group()
def keys() -> None:
    """Store API keys outside any workspace (used when neither a flag nor the environment gives one)."""


def _key_name(provider_name: str) -> str:
    """The name a provider's key is stored under; a usage error for a provider that takes none."""
    provider = providers.get(provider_name)
    if provider.key_variable is None and not provider.alias:
        raise UsageError(f"provider {provider.name} needs no key: nothing to store")
    return provider.stored_as


def _endpoint_name(name: str, base_url: str) -> str:
    """Check NAME -> URL before any key is read: a bad one is refused with nothing stored."""
    problem = userconfig.alias_problem(name, base_url, providers.names())
    if problem:
        raise UsageError(problem)
    return name


@keys.command("set")
@click.argument("provider")
@click.option(
    "--base-url",
    default=None,
    help="Name your own OpenAI-compatible endpoint PROVIDER; its key goes to this URL only (`--model PROVIDER/MODEL`).",
)
def set_key(provider: str, base_url: str | None) -> None:
    """Store the key for PROVIDER (or, with --base-url, for an endpoint you name): typed at a hidden prompt, or piped."""
    name = _endpoint_name(provider, base_url) if base_url is not None else _key_name(provider)
    if sys.stdin is None:
        raise UsageError("no input to read the key from: run `vidgen keys set` in a terminal, or pipe the key in")
    if sys.stdin.isatty():
        key = click.prompt(f"Key for {name}", hide_input=True, err=True)
    else:
        key = sys.stdin.read(100_000)
    # One trailing line end is how `echo` and files end a line; anything else inside is refused.
    key = key.removesuffix("\n").removesuffix("\r").strip(" \t")
    where = keys_module.store(name, key)
    if base_url is not None:
        userconfig.add_alias(name, base_url)
        err(f"stored the key for {name} ({base_url.rstrip('/')}) in {where}; use it with --model {name}/MODEL")
        return
    err(f"stored the key for {name} in {where}" + (f" ({provider} uses {name}'s key)" if name != provider else ""))


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_keys(as_json: bool) -> None:
    """The providers a key is stored for (never the keys), and the URL of each endpoint you named."""
    stored = keys_module.names()
    named = userconfig.aliases()
    if as_json:
        print_json({"keys": stored, "path": str(keys_module.path()), "endpoints": named})
        return
    for name in stored:
        click.echo(f"{name} {named[name]}" if name in named else name)
    if not stored:
        err(f"no keys stored in {keys_module.path()}: `vidgen keys set PROVIDER` adds one")


@keys.command("remove")
@click.argument("provider")
def remove_key(provider: str) -> None:
    """Forget the stored key for PROVIDER (and the URL of an endpoint you named)."""
    if userconfig.remove_alias(provider):
        keys_module.remove(provider)
        err(f"removed the endpoint {provider} and its key")
        return
    name = _key_name(provider)
    if not keys_module.remove(name):
        raise UsageError(f"no key is stored for {name}: `vidgen keys list` shows the stored ones")
    err(f"removed the key for {name}")


@keys.command("path")
def key_path() -> None:
    """Where the keys file is (or would be)."""
    click.echo(str(keys_module.path()))
