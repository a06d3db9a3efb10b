"""`vidgen doctor`: is everything rendering needs here, and if not, the command that fixes it."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from ..engine import protocol
from ..engine.browser import find_browser
from ..engine.sandbox import file_sandbox, network_sandbox
from ..errors import UsageError, VidgenError
from ..media import probe as media
from ..model import providers
from ..settings import Settings
from ..workspace.project import Workspace

PYTHON_PACKAGES = {
    "click": "click",
    "httpx": "httpx",
    "jinja2": "jinja2",
    "watchfiles": "watchfiles",
    "ffmpeg": "ffmpeg-python",
    "imageio_ffmpeg": "imageio-ffmpeg",
    "rich": "rich",
}


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    needed_to_render: bool = True


def _emoji_font() -> Finding:
    """Chromium draws emoji in colour only with a colour emoji font installed; without one they are empty boxes."""
    fc_list = shutil.which("fc-list")
    code, out = _run([fc_list, ":family=Noto Color Emoji", "family"]) if fc_list else (1, "")
    found = code == 0 and "Noto Color Emoji" in out
    return Finding(
        "emoji font",
        found,
        "Noto Color Emoji" if found else "no colour emoji font: emoji render as empty boxes",
        "apt-get install -y fonts-noto-color-emoji",
        needed_to_render=False,
    )


def _voice(settings: Settings) -> Finding:
    """Narration speaks with espeak-ng unless [voice] names an HTTP endpoint."""
    if settings.voice.provider not in ("", "espeak"):
        return Finding("voice", True, f"{settings.voice.provider} /audio/speech ({settings.voice.base_url or 'its own URL'})")
    found = shutil.which("espeak-ng")
    return Finding(
        "voice",
        found is not None,
        "espeak-ng (offline)" if found else "espeak-ng is missing: --narrate cannot speak",
        "apt-get install -y espeak-ng",
        needed_to_render=False,
    )


def _run(command: list[str], timeout: float = 30) -> tuple[int, str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


def examine(workspace: Workspace | None, settings: Settings) -> list[Finding]:
    findings = []
    missing = [pip for module, pip in PYTHON_PACKAGES.items() if importlib.util.find_spec(module) is None]
    findings.append(
        Finding(
            "python packages",
            not missing,
            "all present" if not missing else "missing: " + ", ".join(missing),
            f"pip install {' '.join(missing)}",
        )
    )

    node = shutil.which("node")
    code, version = _run([node, "--version"]) if node else (1, "not found")
    major = int(m[1]) if (m := re.match(r"v(\d+)", version)) else 0
    findings.append(
        Finding("node", major >= 20, version or "not found", "install Node.js 20 or newer (e.g. `apt-get install -y nodejs npm`)")
    )
    npm = shutil.which("npm")
    code, npm_version = _run([npm, "--version"]) if npm else (1, "not found")
    findings.append(Finding("npm", code == 0, npm_version, "install npm (e.g. `apt-get install -y npm`)"))

    if workspace is not None:
        try:
            workspace.require_node_modules()
            findings.append(Finding("workspace", True, f"{workspace.root} (node_modules installed)"))
        except UsageError:
            findings.append(
                Finding("workspace", False, f"{workspace.root}: node_modules missing", f"cd {workspace.root} && npm ci")
            )
        findings.append(_remotion(workspace))
    else:
        findings.append(Finding("workspace", False, "none here", "vidgen init my-videos && cd my-videos", needed_to_render=False))

    findings.append(_mcp_server())
    findings.append(_browser(settings))
    findings.append(_emoji_font())
    findings.append(_voice(settings))
    findings.append(_file_sandbox(settings))
    findings.append(_network_sandbox(settings))

    try:
        ffmpeg = media.ffmpeg_path()
        code, out = _run([ffmpeg, "-hide_banner", "-filters"])
        has_filters = all(f" {name} " in out for name in ("split", "select", "scale"))  # what verify decodes through
        findings.append(
            Finding(
                "ffmpeg",
                code == 0 and has_filters,
                ffmpeg if has_filters else f"{ffmpeg} lacks the split, select or scale filter",
                "pip install imageio-ffmpeg",
            )
        )
    except UsageError as exc:
        findings.append(Finding("ffmpeg", False, str(exc), "pip install imageio-ffmpeg"))
    try:
        ffprobe = media.ffprobe_path(workspace)
        code, out = _run([ffprobe, "-version"])
        findings.append(Finding("ffprobe", code == 0, ffprobe, "npm ci in the workspace (Remotion ships ffprobe)"))
    except UsageError as exc:
        findings.append(Finding("ffprobe", False, str(exc), "npm ci in the workspace (Remotion ships ffprobe)"))

    provider = settings.model.provider
    try:
        present, where = providers.key_source(provider)
    except VidgenError as exc:  # an unknown provider, or a keys file vidgen refuses
        present, where = False, str(exc)
    findings.append(
        Finding(
            "model key",
            present,
            where,
            f"vidgen keys set {provider} (or try `vidgen demo`, which needs no key)",
            needed_to_render=False,
        )
    )
    return findings


def _mcp_server() -> Finding:
    """`vidgen mcp` needs the MCP SDK it is written for (2.x): importing the server module proves it."""
    fix = "pip install 'mcp>=2.3,<3'"
    try:
        from ..mcp import server as mcp_server  # noqa: F401  (the import is the check)
    except ImportError as exc:
        return Finding("mcp server", False, f"vidgen mcp cannot start: {exc}", fix, needed_to_render=False)
    return Finding(
        "mcp server", True, f"MCP SDK {importlib.metadata.version('mcp')}: `vidgen mcp` can serve", needed_to_render=False
    )


def _remotion(workspace: Workspace) -> Finding:
    """The workspace's Remotion against the one this vidgen (and its render service protocol) is made for."""
    installed, expected = protocol.installed_remotion(workspace), protocol.expected_remotion()
    return Finding(
        "remotion",
        installed == expected,
        f"{installed or 'not installed'} in the workspace, vidgen needs {expected} (render service protocol {protocol.PROTOCOL_VERSION})",
        f"cd {workspace.root} && npm ci",
    )


def _browser(settings: Settings) -> Finding:
    fix = "apt-get install -y chromium (or set VIDGEN_BROWSER to a Chrome/Chromium)"
    try:
        browser = find_browser(settings.render.browser)
    except UsageError as exc:
        return Finding("browser", False, str(exc), fix)
    with tempfile.TemporaryDirectory() as profile:
        code, out = _run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                f"--user-data-dir={profile}",
                "--dump-dom",
                "about:blank",
            ],
            timeout=60,
        )
    if code != 0 or "<html" not in out:
        return Finding("browser", False, f"{browser} does not start headless: {out[-200:]}", fix)
    return Finding("browser", True, f"{browser} launches headless")


def _file_sandbox(settings: Settings) -> Finding:
    sandbox = file_sandbox()
    if sandbox.active:
        return Finding("file sandbox", True, f"{sandbox.describe()}: the video's code sees only its workspace")
    allowed = settings.render.allow_unsandboxed
    return Finding(
        "file sandbox",
        allowed,
        f"none ({sandbox.reason}){'; renders can read this machine: allow_unsandboxed = true' if allowed else ''}",
        "apt-get install -y bubblewrap (and enable user namespaces when not root), "
        "or set allow_unsandboxed = true under [render] in vidgen.toml",
    )


def _network_sandbox(settings: Settings) -> Finding:
    if file_sandbox().active and not settings.render.allow_network:
        return Finding("network sandbox", True, "network namespace (bubblewrap)")
    sandbox = network_sandbox()
    if sandbox.active:
        return Finding("network sandbox", True, sandbox.describe())
    allowed = settings.render.allow_network
    return Finding(
        "network sandbox",
        allowed,
        f"none ({sandbox.reason}){'; renders may reach the network: allow_network = true' if allowed else ''}",
        "run as root, or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), "
        "or set allow_network = true under [render] in vidgen.toml",
    )
