"""`vidgen lambda deploy/status/remove`: the workspace's Remotion Lambda function and site, made by Remotion's own CLI."""

from __future__ import annotations

from collections.abc import Callable

import click

from .. import settings as settings_module
from ..cloud import deployment
from ..settings import LambdaSettings
from ..workspace.project import Workspace
from .common import workspace_of
from .printing import print_json


@click.group(name="lambda")
def lambda_group() -> None:
    """Remotion Lambda: deploy the function and site, see what is deployed, remove it (`render --on lambda` uses it)."""


def _subcommand(name: str) -> Callable[[Callable[..., None]], click.Command]:
    """`vidgen lambda NAME [--json]`, given the workspace and its [lambda] settings."""

    def wrap(function: Callable[[Workspace, LambdaSettings, bool], None]) -> click.Command:
        @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
        @click.pass_context
        def command(ctx: click.Context, as_json: bool) -> None:
            workspace = workspace_of(ctx)
            function(workspace, settings_module.load(workspace.root).lambda_, as_json)

        command.__doc__ = function.__doc__
        return lambda_group.command(name)(command)

    return wrap


@_subcommand("deploy")
def deploy(workspace: Workspace, settings: LambdaSettings, as_json: bool) -> None:
    """Deploy the function and upload the site for the workspace's Remotion version, as [lambda] in vidgen.toml says."""
    made = deployment.deploy(workspace, settings)
    if as_json:
        print_json(made.to_json())
        return
    click.echo(
        f"function {made.function_name} (Remotion {made.version}) in {made.region}: {settings.memory_mb} MB memory,"
        f" {settings.disk_mb} MB disk, {settings.timeout_s}s timeout"
    )
    click.echo(f"site {made.site_name}: {made.serve_url}")


@_subcommand("status")
def status(workspace: Workspace, settings: LambdaSettings, as_json: bool) -> None:
    """What is deployed in the region and whether its Remotion version is the workspace's."""
    found = deployment.status(workspace, settings)
    if as_json:
        print_json(found)
        return
    click.echo(f"region {found['region']}; the workspace's Remotion is {found['workspace_version']}")
    for function in found["functions"]:
        verdict = "matches" if function["matches"] else "another version: not used"
        click.echo(f"function {function['name']} (Remotion {function['version'] or '?'}): {verdict}")
    click.echo(f"sites: {', '.join(found['sites']) or 'none'}")
    deployed = found["deployed"]
    if deployed is None:
        click.echo("this workspace has deployed nothing: `vidgen lambda deploy`")
    else:
        state = "ready" if found["ready"] else "not usable: `vidgen lambda deploy` again"
        click.echo(f"this workspace renders with {deployed['function_name']} and site {deployed['site_name']}: {state}")


@_subcommand("remove")
def remove(workspace: Workspace, settings: LambdaSettings, as_json: bool) -> None:
    """Remove the function and site this workspace deployed (its renders in S3 stay)."""
    removed = deployment.remove(workspace, settings)
    if as_json:
        print_json({"removed": removed.to_json()})
        return
    click.echo(f"removed function {removed.function_name} and site {removed.site_name} from {removed.region}")
