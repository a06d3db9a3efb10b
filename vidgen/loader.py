"""Reading vidgen's state files and vidgen.toml: one loader that turns any damage into a UsageError.

Bad JSON or TOML, a wrong shape or bad UTF-8 gives one line naming the file and what to do,
never a traceback and never the file's content (a state file may hold a prompt or a path).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError

Shape = Any  # a type, a tuple of alternatives, {field: shape}, [item shape], Each, Required or Matching


@dataclass(frozen=True)
class Each:
    """An object whose every value has this shape (its keys are names, not fields)."""

    value: Shape


@dataclass(frozen=True)
class Required:
    """A field that must be present."""

    value: Shape


@dataclass(frozen=True)
class Matching:
    """Text that must match a pattern (e.g. a video name, which becomes a folder)."""

    pattern: re.Pattern[str]
    description: str


_KINDS = {dict: "an object", list: "a list", str: "text", int: "a whole number", float: "a number", bool: "true or false"}


def _describe(shape: Shape) -> str:
    if isinstance(shape, tuple):
        return " or ".join(_describe(s) for s in shape)
    if isinstance(shape, dict | Each):
        return "an object"
    if isinstance(shape, list):
        return "a list"
    if isinstance(shape, Matching):
        return shape.description
    if shape is None or shape is type(None):
        return "null"
    return _KINDS.get(shape, getattr(shape, "__name__", str(shape)))


def problem(value: Any, shape: Shape, where: str = "the top level") -> str | None:
    """What is wrong with `value` for `shape`, in words that name fields but never quote values."""
    if isinstance(shape, Required):
        shape = shape.value
    if isinstance(shape, tuple):
        fits = any(problem(value, s, where) is None for s in shape)
        return None if fits else f"{where} should be {_describe(shape)}"
    if shape is None or shape is type(None):
        return None if value is None else f"{where} should be null"
    if isinstance(shape, Matching):
        return None if isinstance(value, str) and shape.pattern.fullmatch(value) else f"{where} should be {shape.description}"
    if isinstance(shape, Each):
        if not isinstance(value, dict):
            return f"{where} should be an object"
        return next((p for v in value.values() if (p := problem(v, shape.value, f"{where}.*"))), None)
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} should be a list"
        return next((p for v in value if (p := problem(v, shape[0], f"{where}[]"))), None)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where} should be an object"
        for key, sub in shape.items():
            label = key if where == "the top level" else f"{where}.{key}"
            if key not in value:
                if isinstance(sub, Required):
                    return f"{label} is missing"
                continue
            if wrong := problem(value[key], sub, label):
                return wrong
        return None
    # bool is an int to Python, never to a state file; a whole number is a fine float.
    exact = isinstance(value, shape) and not (isinstance(value, bool) and shape is not bool)
    whole = shape is float and isinstance(value, int) and not isinstance(value, bool)
    return None if exact or whole else f"{where} should be {_describe(shape)}"


def _text(path: Path, fix: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror or exc}): {fix}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text (bad byte at offset {exc.start}): {fix}") from None


def _checked(path: Path, value: Any, shape: Shape, fix: str) -> Any:
    found = problem(value, shape)
    if found:
        raise UsageError(f"{path} has the wrong shape ({found}): {fix}")
    return value


def _json(text: str, path: Path, fix: str, where: str = "") -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # Only the position: the decoder's message is safe, the document is not quoted.
        line = f"line {exc.lineno}" if not where else where
        raise UsageError(f"{path} is not valid JSON ({exc.msg} at {line}, column {exc.colno}): {fix}") from None
    except RecursionError:
        raise UsageError(f"{path} is not valid JSON (nested too deeply): {fix}") from None


def read_json(path: Path, shape: Shape, fix: str, default: Callable[[], Any] | None = None) -> Any:
    """A JSON state file checked against `shape`; `default()` when it does not exist."""
    if default is not None and not path.exists() and not path.is_symlink():
        return default()
    return _checked(path, _json(_text(path, fix), path, fix), shape, fix)


def read_jsonl(path: Path, shape: Shape, fix: str) -> list[Any]:
    """Every line of a JSON Lines file; a last line cut short by a crash (no newline) is dropped."""
    if not path.exists() and not path.is_symlink():
        return []
    text = _text(path, fix)
    lines = text.split("\n")
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            if number == len(lines):  # no newline after it: a write cut by a crash
                continue
            raise UsageError(f"{path} is not valid JSON Lines (line {number}): {fix}") from None
        found = problem(value, shape, f"line {number}")
        if found:
            raise UsageError(f"{path} has the wrong shape ({found}): {fix}")
        entries.append(value)
    return entries


_TOML_WHERE = re.compile(r"\(at (line \d+, column \d+|end of document)\)")


def read_toml(path: Path, shape: Shape, fix: str) -> dict[str, Any]:
    """A TOML settings file checked against `shape`."""
    text = _text(path, fix)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_WHERE.search(str(exc))
        raise UsageError(f"{path} is not valid TOML{f' ({where[1]})' if where else ''}: {fix}") from None
    except RecursionError:  # tomllib parses arrays and inline tables by recursion
        raise UsageError(f"{path} is not valid TOML (nested too deeply): {fix}") from None
    return _checked(path, data, shape, fix)


# Pieces several state files share.
USAGE = {"prompt": int, "completion": int, "cached": int}
ERROR = {
    "stage": (str, None),
    "message": (str, None),
    "file": (str, None),
    "line": (int, None),
    "column": (int, None),
    "frame": (int, None),
    "excerpt": (str, None),
    "infra": bool,
}
