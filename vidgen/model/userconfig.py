"""The user's own model settings beside the keys file: named endpoints (aliases) and the default model.

Like `llm`, whose `extra-openai-models.yaml` names an endpoint and `llm keys set NAME` stores its key:
`vidgen keys set NAME --base-url URL` records NAME -> URL here and the key in keys.json under NAME, so
the key goes to that URL and nowhere else. `vidgen models default` keeps the user's default model here
(llm's `default_model.txt`). The file holds no secret, but it sits in the keys' private folder and is
written the same way (0600, atomically) so no one else can point a stored key at their own server.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import KeyProblem, UsageError
from . import keys

FILE_NAME = "models.json"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class DefaultModel:
    """The model used when no flag, environment variable or vidgen.toml names one, and its provider."""

    provider: str
    model: str

    def spelled(self) -> str:
        return f"{self.model} (provider {self.provider})"


def path() -> Path:
    return keys.folder() / FILE_NAME


def aliases() -> dict[str, str]:
    """Each named endpoint's base URL."""
    found = _read().get("aliases", {})
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(found, dict) else {}


def alias_url(name: str) -> str | None:
    return aliases().get(name)


def alias_for_url(base_url: str) -> str | None:
    """The alias whose URL this is (trailing slashes aside), so `--base-url URL` finds the key stored for it."""
    wanted = base_url.rstrip("/")
    return next((name for name, url in sorted(aliases().items()) if url.rstrip("/") == wanted), None)


def alias_problem(name: str, base_url: str, built_in: list[str]) -> str:
    """Why NAME -> base_url cannot be stored, as a line saying what to do, or ""."""
    if not _NAME.match(name):
        return f"the endpoint name {name!r} must be lowercase letters, digits and hyphens (e.g. myproxy)"
    if name in built_in:
        return f"{name} is a provider's name: choose another name for your endpoint (e.g. {name}-proxy)"
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"--base-url {base_url!r} is not an http(s) URL: give the endpoint's URL, e.g. https://host/v1"
    if "@" in parts.netloc:
        return "--base-url carries a user name or password: give the URL without them; the key is stored on its own"
    return ""


def add_alias(name: str, base_url: str) -> None:
    data = _read()
    data["aliases"] = {**aliases(), name: base_url.rstrip("/")}
    _write(data)


def remove_alias(name: str) -> bool:
    data = _read()
    found = aliases()
    if name not in found:
        return False
    del found[name]
    data["aliases"] = found
    _write(data)
    return True


def default_model() -> DefaultModel | None:
    found = _read().get("default")
    if isinstance(found, dict) and isinstance(found.get("provider"), str) and isinstance(found.get("model"), str):
        return DefaultModel(found["provider"], found["model"])
    return None


def set_default_model(chosen: DefaultModel | None) -> None:
    data = _read()
    data.pop("default", None)
    if chosen is not None:
        data["default"] = {"provider": chosen.provider, "model": chosen.model}
    _write(data)


def _read() -> dict[str, Any]:
    """The file's object; {} when there is none. Its URLs say where stored keys go, so it is trusted as keys.json is:
    a real file of this user's that no one else can write."""
    target = path()
    fd = keys.open_guarded(target, "reads it only as")
    if fd is None:
        return {}
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            raise KeyProblem(f"{target} is not a regular file of yours: remove it, then name your endpoints again")
        if info.st_mode & 0o022:
            raise KeyProblem(f"{target} can be changed by other users: run `chmod 600 {target}`")
        raw = handle.read(1_000_000)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise UsageError(f"{target} is not a JSON object: fix it, or remove it and set your endpoints and default again")
    return data


def _write(data: dict[str, Any]) -> None:
    target = path()
    keys.make_private_folder(target.parent)
    handle, temporary = tempfile.mkstemp(prefix=".models-", suffix=".tmp", dir=target.parent)  # created 0600
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
