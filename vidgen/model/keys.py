"""Stored API keys, like `llm keys`: one JSON object {name: key} in the user's config folder.

The file lives under $XDG_CONFIG_HOME/vidgen/ (default ~/.config/vidgen/), never in a workspace;
it is mode 0600 in a 0700 folder, replaced atomically, and read only when it is a regular file
you own and no one else can read. Nothing here ever prints, logs or quotes a key, or the file's content.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from ..errors import KeyProblem

FILE_NAME = "keys.json"


def folder() -> Path:
    """$XDG_CONFIG_HOME/vidgen, or ~/.config/vidgen (a relative XDG_CONFIG_HOME is ignored, as the spec says)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "vidgen"


def path() -> Path:
    return folder() / FILE_NAME


def read() -> dict[str, str]:
    """The stored keys; {} when there is no file. Refuses a file that is a link, shared, or malformed."""
    return _load(check_mode=True)


def names() -> list[str]:
    """The names keys are stored under (never the keys)."""
    return sorted(read())


def get(name: str) -> str | None:
    return read().get(name)


def store(name: str, key: str) -> Path:
    """Store (or replace) the key for a name; the file is rewritten 0600, atomically."""
    problem = key_problem(key)
    if problem:
        raise KeyProblem(f"the key {problem}: nothing was stored; paste the key on one line")
    # A shared file is about to be rewritten 0600, so its mode is no reason to refuse here.
    keys = _load(check_mode=False)
    keys[name] = key
    return _write(keys)


def remove(name: str) -> bool:
    """Forget a name's key; False when none was stored."""
    keys = _load(check_mode=False)
    if name not in keys:
        return False
    del keys[name]
    _write(keys)
    return True


def key_problem(key: str) -> str:
    """What makes a key unusable in an Authorization header, or "" when it is fine."""
    if not key:
        return "is empty"
    if any(c in key for c in "\r\n"):
        return "has a line break inside"
    if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in key):
        return "has a space or control character inside"
    if not key.isascii():
        return "has characters that are not ASCII"
    return ""


def open_guarded(target: Path, kept: str) -> int | None:
    """A descriptor to read one of the user's vidgen files (keys.json, models.json), never through a link; None when
    there is none. `kept` says how vidgen keeps it, for the link's error: "keeps keys only in", "reads it only as"."""
    try:
        return os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if os.path.islink(target):
            raise KeyProblem(f"{target} is a symbolic link: vidgen {kept} a real file; remove the link") from None
        raise KeyProblem(f"cannot read {target} ({exc.strerror}): fix its permissions, or remove it") from None


def _load(check_mode: bool) -> dict[str, str]:
    target = path()
    _refuse_workspace(target.parent)
    fd = open_guarded(target, "keeps keys only in")
    if fd is None:
        return {}
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise KeyProblem(f"{target} is not a regular file: remove it, then `vidgen keys set PROVIDER`")
    if info.st_uid != os.geteuid():
        os.close(fd)
        # Whoever owns it chooses the keys vidgen sends: another user's file is never used, even by root.
        raise KeyProblem(f"{target} belongs to another user (uid {info.st_uid}): make it yours (`sudo chown`) or remove it")
    with os.fdopen(fd, "rb") as handle:
        if check_mode and info.st_mode & 0o077:
            raise KeyProblem(
                f"{target} can be read by other users (mode {stat.S_IMODE(info.st_mode):o}): run `chmod 600 {target}`"
            )
        raw = handle.read(1_000_000)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise KeyProblem(f"{target} is not valid JSON: fix it or delete it, then `vidgen keys set PROVIDER`") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise KeyProblem(
            f"{target} is not an object of names to keys (strings): fix it or delete it, then `vidgen keys set PROVIDER`"
        )
    return data


def _write(keys: dict[str, str]) -> Path:
    target = path()
    make_private_folder(target.parent)
    if target.is_symlink():
        raise KeyProblem(f"{target} is a symbolic link: vidgen keeps keys only in a real file; remove the link")
    handle, temporary = tempfile.mkstemp(prefix=".keys-", suffix=".tmp", dir=target.parent)  # created 0600
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(keys, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def make_private_folder(where: Path) -> None:
    """The config folder, made (or made again) 0700 and this user's: whoever can write to it can swap its files."""
    made = not where.exists()
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.stat(where)
    if info.st_uid != os.geteuid():
        raise KeyProblem(
            f"the keys folder {where} belongs to another user (uid {info.st_uid}): make it yours (`sudo chown`) or point XDG_CONFIG_HOME elsewhere"
        )
    if made:
        os.chmod(where, 0o700)  # mkdir's mode is cut by the umask
    elif info.st_mode & 0o022:
        # Whoever can write to the folder can swap the keys file for their own: it becomes private first.
        try:
            os.chmod(where, 0o700)
        except OSError as exc:
            raise KeyProblem(
                f"the keys folder {where} can be written by other users (mode {stat.S_IMODE(info.st_mode):o}) and could not be "
                f"made private ({exc.strerror or exc}): run `chmod 700 {where}`, then set the key again"
            ) from None


def _refuse_workspace(where: Path) -> None:
    """Keys never live in a workspace, where a commit, a zip or a shared folder would carry them."""
    for parent in (where, *where.parents):
        if (parent / "vidgen.toml").is_file():
            raise KeyProblem(
                f"the keys folder {where} is inside the workspace {parent}: point XDG_CONFIG_HOME outside any workspace"
            )
