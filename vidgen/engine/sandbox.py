"""What the render service may reach: a file system jail (bubblewrap), no network, and a minimal environment."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..errors import UsageError

HELPER = Path(__file__).with_name("netns_exec.py")

# Everything else (API keys, VIDGEN_* settings, proxies and their credentials, NODE_OPTIONS,
# which could --require code into the service) stays out of Node's and Chromium's environment.
_ALLOWED = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "FONTCONFIG_FILE", "FONTCONFIG_PATH"}
_ALLOWED.add("VIDGEN_TRACE")  # 1: the service logs when each part of its cold start is done

# Inside the namespace nothing but its own loopback exists. In the browser, as a second wall of
# its own, every host but localhost (the bundle server) resolves to nothing, IP literals included.
BROWSER_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",)

FILE_REFUSAL = (
    "refusing to render without the file sandbox ({reason}): install bubblewrap (`apt-get install -y bubblewrap`), "
    "enable user namespaces (sysctl kernel.unprivileged_userns_clone=1), or set `allow_unsandboxed = true` "
    "under [render] in vidgen.toml to render with this machine's files in reach of the video's code"
)

REFUSAL = (
    "refusing to render without a network sandbox ({reason}): run vidgen as root, enable unprivileged user "
    "namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces), "
    "or set `allow_network = true` under [render] in vidgen.toml"
)


@dataclass(frozen=True)
class NetworkSandbox:
    """How the render service is cut off from the network, if it is."""

    mode: str  # "root", "user namespace" or "bubblewrap" (the file jail's own) when active, "" when none
    reason: str = ""  # why none can be had

    @property
    def active(self) -> bool:
        return bool(self.mode)

    def describe(self) -> str:
        if self.mode == "root":
            return "network namespace (unshare)"
        if self.mode == "bubblewrap":
            return "network namespace (bubblewrap)"
        if self.mode:
            return "network namespace (unprivileged user namespace)"
        return "none"

    def wrap(self, command: list[str]) -> list[str]:
        """The command, started inside a new network namespace with only its own loopback up."""
        return [sys.executable, "-I", "-S", str(HELPER), *command]


_Found = TypeVar("_Found", "NetworkSandbox", "FileSandbox")


def _remembered_when_active(probe: Callable[[], _Found]) -> Callable[[], _Found]:
    """A probe whose success is remembered for the process and whose failure is not: the render daemon
    lives for hours, and a failure can pass (the kernel frees namespaces lazily, and under a burst their
    count can run out; bubblewrap may be installed meanwhile)."""
    cached = functools.cache(probe)

    @functools.wraps(probe)
    def found() -> _Found:
        answer = cached()
        if not answer.active:
            cached.cache_clear()
        return answer

    return found


@_remembered_when_active
def network_sandbox() -> NetworkSandbox:
    """Whether a namespace can be made here (about 40 ms to find out), the way the service will be started."""
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


# ---------------------------------------------------------------- the file system jail

# What of /etc the service, its checker and Chromium read: libraries' and fonts' configuration,
# the users (Node and Chromium ask who they are), localhost, Chromium's Debian settings. Never
# all of /etc (private keys, shadow), never /home, /root, /run or /var beyond the font cache.
_ETC = (
    "alternatives",
    "chromium",
    "chromium.d",
    "debian_version",
    "fonts",
    "gai.conf",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "machine-id",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "timezone",
    "xdg",
)
_SYSTEM = ("/usr", "/var/cache/fontconfig")
_TOP_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The workspace files the service reads besides src/, public/ and node_modules/ (a `.env` or
# anything else the user keeps at the top is not among them).
_PROJECT_FILES = ("package.json", "package-lock.json", "tsconfig.json", "eslint.config.mjs", "remotion.config.ts")


@dataclass(frozen=True)
class Jail:
    """What one jailed process sees: read-only paths, writable paths, and the folder it starts in."""

    readable: tuple[Path, ...]
    writable: tuple[Path, ...]
    cwd: Path


@dataclass(frozen=True)
class FileSandbox:
    """bubblewrap, when it can run here: the operating system is the jail for the model's code."""

    bwrap: str  # its path when it works, "" when not
    reason: str = ""  # why it cannot be used

    @property
    def active(self) -> bool:
        return bool(self.bwrap)

    def describe(self) -> str:
        return f"bubblewrap ({self.bwrap})" if self.bwrap else "none"

    def wrap(self, command: list[str], jail: Jail, *, network: bool = False) -> list[str]:
        """`command` inside a new mount, pid and (unless `network`) network namespace holding only `jail`."""
        assert self.bwrap, "wrap() needs bubblewrap"
        # --die-with-parent: the jail ends with the thread that started bwrap (see processes.py's spawner),
        # and everything in it when bwrap itself is killed.
        args = [self.bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if not network:
            args.append("--unshare-net")  # a new namespace with only its own loopback, brought up by bwrap
        args += ["--dev", "/dev", "--tmpfs", "/dev/shm", "--proc", "/proc", "--tmpfs", "/tmp"]
        for top in _TOP_LINKS:
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for system in _SYSTEM:
            args += ["--ro-bind-try", system, system]
        for name in _ETC:
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        # Empty in the jail even where the workspace lives below them: the binds that follow are
        # mounted over these, so only the jail's own paths reappear.
        for private in _private_folders():
            args += ["--tmpfs", str(private)]
        for readable in jail.readable:
            args += ["--ro-bind", str(readable), str(readable)]
        for writable in jail.writable:
            args += ["--bind", str(writable), str(writable)]
        return [*args, "--setenv", "TMPDIR", "/tmp", "--chdir", str(jail.cwd), "--", *command]


def _private_folders() -> list[Path]:
    """$HOME, $XDG_CONFIG_HOME (the stored keys) and $TMPDIR: present in the jail, and empty."""
    found: list[Path] = []
    for value in (os.environ.get("HOME"), os.environ.get("XDG_CONFIG_HOME"), os.environ.get("TMPDIR"), "/root", "/home"):
        if value and os.path.isabs(value) and os.path.isdir(value):
            path = Path(os.path.realpath(value))
            if path != Path("/") and not any(path == p or p in path.parents for p in found):
                found.append(path)
    return found


def service_writable(workspace_root: Path) -> list[Path]:
    """What the jailed service may write: stills, renders before they are moved into place, its builds
    and webpack's cache."""
    root = workspace_root.resolve()
    state = root / ".vidgen"
    return [state / "stills", state / "staging", state / "bundle", root / "node_modules" / ".cache"]


def service_jail(workspace_root: Path, template: Path, programs: list[str]) -> Jail:
    """The render service's jail: the workspace's code and packages read-only, its scratch folders writable.

    `programs` (Node, the browser) outside /usr bring their own install folder, read-only."""
    root = workspace_root.resolve()
    state = root / ".vidgen"
    writable = service_writable(root)
    for folder in writable:
        folder.mkdir(parents=True, exist_ok=True)
    readable = [template.resolve(), root / "node_modules", root / "src"]
    readable += [root / name for name in ("public", *_PROJECT_FILES) if (root / name).exists()]
    launcher = state / "browser-launcher.sh"
    if launcher.is_file():
        readable.append(launcher)
    for program in programs:
        real = Path(os.path.realpath(program))
        if not any(real.is_relative_to(system) for system in ("/usr", "/bin", "/sbin", "/lib")):
            # Node in ~/.nvm/versions/node/v20/bin/node: its whole install (lib/ holds npm and headers).
            readable.append(real.parent.parent if real.parent.name == "bin" else real.parent)
    return Jail(tuple(readable), tuple(writable), root)


@_remembered_when_active
def file_sandbox() -> FileSandbox:
    """Whether bubblewrap can make its namespaces here (a few ms to find out)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return FileSandbox("", "bubblewrap (bwrap) is not installed")
    probe = FileSandbox(bwrap)
    command = probe.wrap([shutil.which("true") or "/bin/true"], Jail((), (), Path("/")))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20, env={"PATH": os.defpath})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return FileSandbox("", f"bwrap did not run: {exc}")
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        return FileSandbox("", f"bwrap cannot make its namespaces here: {detail}")
    return probe


def confined(command: list[str], writable: list[Path], readable: list[Path] | None = None) -> list[str]:
    """A helper program run on text the model wrote (the offline voice): in a jail that may write only
    `writable` and read the system and `readable`, with no network, where bubblewrap runs; as it is
    elsewhere (rendering is what refuses to start without the jail)."""
    sandbox = file_sandbox()
    if not sandbox.active:
        return command
    folders = tuple(Path(os.path.realpath(folder)) for folder in writable)
    seen = tuple(Path(os.path.realpath(folder)) for folder in readable or ())
    return sandbox.wrap(command, Jail(seen, folders, folders[0] if folders else Path("/")))


def require_file_sandbox(allow_unsandboxed: bool, sandbox: FileSandbox | None = None) -> FileSandbox:
    """The jail to start the service in; fails closed unless the user allowed rendering without one."""
    sandbox = sandbox or file_sandbox()
    if not sandbox.active and not allow_unsandboxed:
        raise UsageError(FILE_REFUSAL.format(reason=sandbox.reason))
    return sandbox
