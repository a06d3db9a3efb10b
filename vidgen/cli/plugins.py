"""`vidgen plugins`: what is installed that extends vidgen (today: providers, through one entry point group)."""

from __future__ import annotations

import click

from ..model import providers
from .printing import err, print_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def plugins(as_json: bool) -> None:
    """The installed plugins (the `vidgen.providers` entry points): package, version, providers, problems."""
    found = providers.registry().plugins
    if as_json:
        listed = [
            {
                "name": p.name,
                "value": p.value,
                "package": p.package or None,
                "version": p.version or None,
                "providers": list(p.providers),
                "problems": list(p.problems),
            }
            for p in found
        ]
        print_json({"group": providers.ENTRY_POINT_GROUP, "plugins": listed})
        return
    for plugin in found:
        source = f"{plugin.package} {plugin.version}".strip() or "(package unknown)"
        offers = f"providers: {', '.join(plugin.providers)}" if plugin.providers else "no provider added"
        click.echo(f"{plugin.name}  {source}  {plugin.value}  {offers}")
        for problem in plugin.problems:
            err(f"warning: plugin {plugin.name}: {problem}")
    if not found:
        err(
            f"no plugins installed: vidgen loads providers from the `{providers.ENTRY_POINT_GROUP}` entry point group"
            " (docs/models.md, 'Add a provider')"
        )
