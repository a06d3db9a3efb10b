"""Run a command in a new network namespace that has only its own loopback (stdlib only, run by path)."""

# Started as `python -I -S netns_exec.py COMMAND...` between fork and Node: it must stay a
# standalone file (no vidgen imports, no site packages) so it costs one bare interpreter start.
# `--probe` makes the namespace and exits, printing how it was made.

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
EXIT_NO_NAMESPACE = 125


def _unshare(flags: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    return 0 if libc.unshare(flags) == 0 else ctypes.get_errno()


def _write(path: str, text: str) -> None:
    with open(path, "w") as out:
        out.write(text)


def enter() -> str:
    """Move this process into a fresh network namespace; returns how ("root" or "user namespace")."""
    if _unshare(CLONE_NEWNET) == 0:
        return "root"
    # Without CAP_SYS_ADMIN: a user namespace owning the network namespace. The same ids are
    # mapped, so files keep their owners, and exec drops the capabilities gained here.
    uid, gid = os.getuid(), os.getgid()
    error = _unshare(CLONE_NEWUSER | CLONE_NEWNET)
    if error:
        raise OSError(error, os.strerror(error))
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    return "user namespace"


def loopback_up() -> None:
    """A new namespace's `lo` is down: bring it up (what `ip link set lo up` does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh22x", b"lo", 0)
        flags = struct.unpack("16sh22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: netns_exec.py --probe | COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        how = enter()
        loopback_up()
    except OSError as exc:
        print(f"no network namespace: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_NO_NAMESPACE
    if argv[0] == "--probe":
        print(how)
        return 0
    try:
        os.execv(argv[0], argv)
    except OSError as exc:
        print(f"cannot start {argv[0]} in the network namespace: {exc.strerror or exc}", file=sys.stderr)
    return EXIT_NO_NAMESPACE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
