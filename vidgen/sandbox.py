"""What the render service may reach: a network namespace of its own, and a minimal environment."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

HELPER = Path(__file__).with_name("netns_exec.py")

# Everything else (API keys, VIDGEN_* settings, proxies and their credentials, NODE_OPTIONS,
# which could --require code into the service) stays out of Node's and Chromium's environment.
_ALLOWED = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "FONTCONFIG_FILE", "FONTCONFIG_PATH"}
_ALLOWED.add("VIDGEN_TRACE")  # 1: the service logs when each part of its cold start is done

# Inside the namespace nothing but its own loopback exists. In the browser, as a second wall of
# its own, every host but localhost (the bundle server) resolves to nothing, IP literals included.
BROWSER_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",)

REFUSAL = (
    "refusing to render without a network sandbox ({reason}): run vidgen as root, enable unprivileged user "
    "namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces), "
    "or set `allow_network = true` under [render] in vidgen.toml"
)


@dataclass(frozen=True)
class NetworkSandbox:
    """How the render service is cut off from the network, if it is."""

    mode: str  # "root" or "user namespace" when active, "" when none can be had
    reason: str = ""  # why none can be had

    @property
    def active(self) -> bool:
        return bool(self.mode)

    def describe(self) -> str:
        if self.mode == "root":
            return "network namespace (unshare)"
        if self.mode:
            return "network namespace (unprivileged user namespace)"
        return "none"

    def wrap(self, command: list[str]) -> list[str]:
        """The command, started inside a new network namespace with only its own loopback up."""
        return [sys.executable, "-I", "-S", str(HELPER), *command]


def network_sandbox() -> NetworkSandbox:
    """Whether a namespace can be made here (about 40 ms to find out), the way the service will be started.

    A success is remembered for the process; a failure is not: the render daemon lives for hours, and a
    failure can pass (the kernel frees namespaces lazily, and under a burst their count can run out)."""
    found = _sandbox_found()
    if not found.active:
        _sandbox_found.cache_clear()
    return found


@functools.cache
def _sandbox_found() -> NetworkSandbox:
    if not sys.platform.startswith("linux"):
        return NetworkSandbox("", "network namespaces exist only on Linux")
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", str(HELPER), "--probe"], capture_output=True, text=True, timeout=20, env={}
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return NetworkSandbox("", str(exc))
    if done.returncode == 0 and done.stdout.strip():
        return NetworkSandbox(done.stdout.strip())
    return NetworkSandbox("", done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")


def require_network_sandbox(allow_network: bool, sandbox: NetworkSandbox | None = None) -> NetworkSandbox:
    """The sandbox to start the service in (this machine's by default); fails closed unless the network is allowed."""
    sandbox = sandbox or network_sandbox()
    if not sandbox.active and not allow_network:
        raise UsageError(REFUSAL.format(reason=sandbox.reason or "no network namespace"))
    return sandbox


def service_environment(extra: Mapping[str, str], source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment Node and its Chromium start with: an allowlist, never the caller's secrets."""
    source = os.environ if source is None else source
    env = {k: v for k, v in source.items() if k in _ALLOWED or k.startswith("LC_")}
    env.setdefault("PATH", os.defpath)
    return {**env, **extra}
