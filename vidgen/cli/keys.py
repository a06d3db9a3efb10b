"""`vidgen keys set/list/remove/path`: API keys kept in the user's config folder, like `llm keys`."""

from __future__ import annotations

import sys

import click

from ..errors import UsageError
from ..model import keys as keys_module
from ..model import providers
from .printing import err, print_json


@click.group()
def keys() -> None:
    """Store API keys outside any workspace (used when neither a flag nor the environment gives one)."""


def _key_name(provider_name: str) -> str:
    """The name a provider's key is stored under; a usage error for a provider that takes none."""
    provider = providers.get(provider_name)
    if provider.key_variable is None:
        raise UsageError(f"provider {provider.name} needs no key: nothing to store")
    return provider.stored_as


@keys.command("set")
@click.argument("provider")
def set_key(provider: str) -> None:
    """Store the key for PROVIDER: typed at a hidden prompt, or read from stdin when piped."""
    name = _key_name(provider)
    if sys.stdin is None:
        raise UsageError("no input to read the key from: run `vidgen keys set` in a terminal, or pipe the key in")
    if sys.stdin.isatty():
        key = click.prompt(f"Key for {name}", hide_input=True, err=True)
    else:
        key = sys.stdin.read(100_000)
    # One trailing line end is how `echo` and files end a line; anything else inside is refused.
    key = key.removesuffix("\n").removesuffix("\r").strip(" \t")
    where = keys_module.store(name, key)
    err(f"stored the key for {name} in {where}" + (f" ({provider} uses {name}'s key)" if name != provider else ""))


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_keys(as_json: bool) -> None:
    """The providers a key is stored for (never the keys)."""
    stored = keys_module.names()
    if as_json:
        print_json({"keys": stored, "path": str(keys_module.path())})
        return
    for name in stored:
        click.echo(name)
    if not stored:
        err(f"no keys stored in {keys_module.path()}: `vidgen keys set PROVIDER` adds one")


@keys.command("remove")
@click.argument("provider")
def remove_key(provider: str) -> None:
    """Forget the stored key for PROVIDER."""
    name = _key_name(provider)
    if not keys_module.remove(name):
        raise UsageError(f"no key is stored for {name}: `vidgen keys list` shows the stored ones")
    err(f"removed the key for {name}")


@keys.command("path")
def key_path() -> None:
    """Where the keys file is (or would be)."""
    click.echo(str(keys_module.path()))
