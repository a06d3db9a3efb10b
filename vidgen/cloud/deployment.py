"""What is deployed on Remotion Lambda for a workspace: `vidgen lambda deploy`, `status`, `remove`, the site's update.

`deploy` makes the function (Remotion's CLI returns the one that exists when its version, memory, disk and
timeout match) and uploads the workspace's code as the site. The names and the Serve URL are kept in
`.vidgen/lambda.json`; nothing secret is in it. A render uploads the site again under the same name, so the
function renders the code as it is now, not as it was at the deploy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import CloudError, UsageError
from ..settings import LambdaSettings
from ..workspace.files import atomic_write
from ..workspace.project import Workspace
from . import remotion_cli as cli
from . import versions

RECORD = "lambda.json"


@dataclass(frozen=True)
class Deployment:
    """The function and site a workspace renders with; `version` is the Remotion version they were deployed for."""

    region: str
    function_name: str
    site_name: str
    serve_url: str
    version: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def record_path(workspace: Workspace) -> Path:
    return workspace.state_dir / RECORD


def read(workspace: Workspace) -> Deployment | None:
    """The last deploy's record, or None; a damaged one is a usage error naming the file (never quoting it)."""
    path = record_path(workspace)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return Deployment(**{key: str(data[key]) for key in Deployment.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(f"{path} is damaged: delete it and run `vidgen lambda deploy` again") from None


def deploy(workspace: Workspace, settings: LambdaSettings, runner: cli.Runner = cli.run_process) -> Deployment:
    """Deploy the function and the site for the workspace's Remotion version; the record of what was made."""
    version = _prepare(workspace)
    output = cli.run(cli.deploy_function_argv(settings), workspace.root, runner)
    names = [name for name in cli.function_names(output) if versions.function_version(name) == version]
    if not names:
        raise CloudError("`npx remotion lambda functions deploy` named no function of this Remotion version: run it again")
    url = upload_site(workspace, settings, runner)
    deployment = Deployment(settings.region, names[0], settings.site_name, url, version)
    atomic_write(record_path(workspace), json.dumps(deployment.to_json(), indent=2) + "\n")
    return deployment


def upload_site(workspace: Workspace, settings: LambdaSettings, runner: cli.Runner = cli.run_process) -> str:
    """Bundle the workspace and upload it as the site (replacing the one of that name); its Serve URL."""
    output = cli.run(cli.create_site_argv(settings), workspace.root, runner)
    url = cli.serve_url(output)
    if url is None:
        raise CloudError("`npx remotion lambda sites create` printed no Serve URL: run it again")
    return url


def for_render(workspace: Workspace, settings: LambdaSettings) -> Deployment:
    """The deployment a render uses: deployed, in the region asked, of the workspace's Remotion version."""
    version = versions.template_version(workspace.root)
    deployment = read(workspace)
    if deployment is None:
        raise UsageError("nothing is deployed on Lambda for this workspace: run `vidgen lambda deploy` first")
    if deployment.region != settings.region:
        raise UsageError(
            f"the function is deployed in {deployment.region}, but [lambda] region is {settings.region}:"
            " run `vidgen lambda deploy` for this region"
        )
    versions.require_function(deployment.function_name, version)
    return deployment


def status(workspace: Workspace, settings: LambdaSettings, runner: cli.Runner = cli.run_process) -> dict[str, Any]:
    """What AWS has in the region (Remotion's functions, the sites) beside vidgen's record, and whether versions match."""
    version = _prepare(workspace)
    functions = cli.function_names(cli.run(cli.list_argv("functions", settings), workspace.root, runner))
    sites = cli.words(cli.run(cli.list_argv("sites", settings), workspace.root, runner))
    recorded = read(workspace)
    listed = [{"name": name, "version": versions.function_version(name)} for name in functions]
    usable = recorded is not None and recorded.function_name in functions and recorded.site_name in sites
    return {
        "region": settings.region,
        "workspace_version": version,
        "functions": [{**entry, "matches": entry["version"] == version} for entry in listed],
        "sites": sites,
        "deployed": recorded.to_json() if recorded else None,
        "ready": usable and recorded is not None and recorded.version == version,
    }


def remove(workspace: Workspace, settings: LambdaSettings, runner: cli.Runner = cli.run_process) -> Deployment:
    """Remove the recorded function and site from AWS, then the record (renders already in S3 stay)."""
    recorded = read(workspace)
    if recorded is None:
        raise UsageError("nothing is deployed on Lambda for this workspace (no .vidgen/lambda.json): nothing to remove")
    _prepare(workspace)
    region = replace(settings, region=recorded.region)
    cli.run(cli.remove_argv("functions", recorded.function_name, region), workspace.root, runner)
    cli.run(cli.remove_argv("sites", recorded.site_name, region), workspace.root, runner)
    record_path(workspace).unlink(missing_ok=True)
    return recorded


def _prepare(workspace: Workspace) -> str:
    """The workspace's Remotion version, once Remotion's Lambda CLI is known to be installed in it."""
    version = versions.template_version(workspace.root)
    cli.require_installed(workspace.root, version)
    return version
