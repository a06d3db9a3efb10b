"""Which Remotion version a workspace, the Python client and a deployed function are: they must be one.

The workspace's `package.json` (copied from the template) is the one place the version is written for
Node; the `remotion-lambda` pin in pyproject.toml must equal it (a test holds them together). Remotion
Lambda refuses a request whose version is not the function's, so vidgen says so before any call.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

from ..errors import CloudError, UsageError

CLIENT_PACKAGE = "remotion-lambda"
# Remotion names a function by its version, memory, disk and timeout: remotion-render-4-0-527-mem2048mb-disk2048mb-120sec.
_FUNCTION_VERSION = re.compile(r"remotion-render-(\d+)-(\d+)-(\d+)")


def template_version(root: Path) -> str:
    """The `remotion` version the workspace at `root` pins in its package.json."""
    path = root / "package.json"
    try:
        version = json.loads(path.read_text())["dependencies"]["remotion"]
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(f"{path} names no remotion version: it is not a vidgen workspace's package.json") from None
    if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise UsageError(f"{path} pins remotion to a range, not one version: Remotion Lambda needs an exact one")
    return version


def client_version() -> str | None:
    """The installed `remotion-lambda` Python client's version, or None when it is not installed."""
    try:
        return metadata.version(CLIENT_PACKAGE)
    except metadata.PackageNotFoundError:
        return None


def require_client(workspace_version: str, installed: str | None = None) -> None:
    """The client must be installed and of the workspace's Remotion version: checked before any AWS call."""
    installed = installed if installed is not None else client_version()
    if installed is None:
        raise UsageError(
            f"rendering on Lambda needs the {CLIENT_PACKAGE} Python client: pip install 'vidgen[lambda]'"
            f" (it installs {CLIENT_PACKAGE}=={workspace_version})"
        )
    if installed != workspace_version:
        raise CloudError(
            f"version mismatch: the {CLIENT_PACKAGE} client is {installed} but the workspace's Remotion is {workspace_version};"
            f" pip install '{CLIENT_PACKAGE}=={workspace_version}'"
        )


def function_version(name: str) -> str | None:
    """The Remotion version a deployed function's name says it runs (None when the name is not Remotion's)."""
    match = _FUNCTION_VERSION.match(name)
    return ".".join(match.groups()) if match else None


def require_function(name: str, workspace_version: str) -> None:
    """A function of another Remotion version refuses every request: say it before the call."""
    deployed = function_version(name)
    if deployed != workspace_version:
        raise CloudError(
            f"version mismatch: the Lambda function {name} runs Remotion {deployed or 'of an unknown version'} but the"
            f" workspace's is {workspace_version}; run `vidgen lambda deploy` to deploy one of {workspace_version}"
        )
