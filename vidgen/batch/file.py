"""Reading a batch file (.txt, .jsonl, .yaml, .csv) into checked items, with line numbers.

A malformed line is reported with its line number and skipped, or, with --strict, the
whole batch is refused before anything runs. A .jsonl line or a .csv field over 128 KiB is
malformed, checked before it is parsed.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..check import constraints
from ..errors import UsageError
from ..media import assets as assets_module
from ..settings import Limits
from ..workspace.project import validate_name

FIELDS = {"prompt", "name", "seconds", "fps", "size", "aspect", "max_repairs", "assets", "narrate", "captions", "storyboard"}
EXTENSIONS = (".txt", ".jsonl", ".yaml", ".yml", ".csv")
MAX_ITEM_BYTES = 128 * 1024  # a .jsonl line or a .csv field: an idea and its settings, never a document
_TOO_BIG = f"over {MAX_ITEM_BYTES // 1024} KiB: an item is an idea and a few settings, shorten it"


@dataclass(frozen=True)
class Item:
    line: int
    prompt: str
    name: str | None = None
    shape: constraints.Constraints = field(default_factory=constraints.Constraints)
    max_repairs: int | None = None
    raw: tuple[tuple[str, str], ...] = ()
    assets: tuple[Path, ...] = ()
    narrate: bool = False
    captions: bool = False
    storyboard: bool = False  # plan a storyboard first (also when `seconds` is over [storyboard] min_seconds)

    @property
    def key(self) -> str:
        """What makes two items the same work: the prompt and every parameter."""
        return hashlib.sha256(json.dumps(dict(self.raw), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read(path: Path, limits: Limits) -> tuple[list[Item], list[Problem]]:
    """The items of a batch file and the problems found, each with its line number."""
    if not path.exists():
        raise UsageError(f"batch file {path} does not exist: check the path")
    if path.suffix.lower() not in EXTENSIONS:
        raise UsageError(f"batch file {path.name} has an unknown extension: use .txt, .jsonl, .yaml or .csv")
    raw_items, problems = _RAW[path.suffix.lower()](_text_of(path))
    items: list[Item] = []
    for line, values in raw_items:
        try:
            items.append(_check(line, values, limits, path.parent))
        except ValueError as exc:
            problems.append(Problem(line, str(exc)))
    if not items and not problems:
        raise UsageError(f"batch file {path} has no items: add one idea per line (or one object per line for .jsonl)")
    return items, sorted(problems, key=lambda p: p.line)


_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _text_of(path: Path) -> str:
    """The file's text; a UsageError for a file that is not UTF-8 text, whose bytes must never reach the model as ideas."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read batch file {path} ({exc.strerror or exc}): check the path and its permissions") from None
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "UTF-16" if _interleaved(data) else None)
    if encoding:
        raise UsageError(f"batch file {path} is {encoding} text: save it as UTF-8 (e.g. iconv -f {encoding} -t UTF-8)")
    if b"\0" in data:
        raise UsageError(f"batch file {path} is binary (it has NUL bytes): give a UTF-8 text file, one idea per line")
    try:
        text = data.decode("utf-8-sig")  # the mark some editors put first is not part of the first idea
    except UnicodeDecodeError as exc:
        raise UsageError(f"batch file {path} is not UTF-8 text (bad byte at offset {exc.start}): save it as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # line ends as reading in text mode makes them


def _interleaved(data: bytes) -> bool:
    """UTF-16 without a byte order mark: mostly ASCII, so a NUL beside nearly every other byte, and few between."""
    sample = data[:4096]
    half = len(sample) // 2
    nuls = sorted((sample[0::2].count(0), sample[1::2].count(0)))
    return half >= 2 and nuls[1] >= 0.7 * half and nuls[0] <= 0.1 * half


def _check(line: int, values: Any, limits: Limits, base: Path) -> Item:
    if isinstance(values, str):
        values = {"prompt": values}
    if not isinstance(values, dict):
        raise ValueError("expected an idea or an object with a 'prompt'")
    unknown = set(values) - FIELDS  # YAML keys need not be text: compare and show them as text
    if unknown:
        raise ValueError(f"unknown field {sorted(map(str, unknown))[0]!r}: use {', '.join(sorted(FIELDS))}")
    prompt = values.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("'prompt' is missing or empty" if not prompt else "'prompt' must be text")
    for key in ("name", "size", "aspect"):
        if values.get(key) not in (None, "") and not isinstance(values[key], str):
            raise ValueError(f"'{key}' must be text, e.g. {_EXAMPLES[key]}")
    name = values.get("name") or None
    try:
        if name is not None:
            validate_name(str(name))
        shape = constraints.build(
            _number(values, "seconds", float),
            _number(values, "fps", int),
            values.get("size") or None,
            values.get("aspect") or None,
            limits,
        )
    except UsageError as exc:
        raise ValueError(str(exc).replace("--", "")) from None
    max_repairs = _number(values, "max_repairs", int)
    if max_repairs is not None and not 0 <= max_repairs <= 20:
        raise ValueError("max_repairs must be between 0 and 20")
    given = _assets(values.get("assets"), base)
    raw = tuple(sorted((k, str(v)) for k, v in values.items() if v not in (None, "", [])))
    narrate, captions = _flag(values, "narrate"), _flag(values, "captions")
    storyboard = _flag(values, "storyboard")
    return Item(
        line,
        prompt.strip(),
        str(name) if name else None,
        shape,
        max_repairs,
        raw,
        given,
        narrate or captions,
        captions,
        storyboard,
    )


def _flag(values: dict[str, Any], key: str) -> bool:
    """true/false, or in .csv/.txt text: true, false, yes, no, 1, 0 (or empty)."""
    value = values.get(key)
    if value in (None, "") or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "1", "false", "no", "0"}:
        return value.strip().lower() in {"true", "yes", "1"}
    raise ValueError(f"'{key}' must be true or false")


def _assets(value: Any, base: Path) -> tuple[Path, ...]:
    """An item's asset files: a list (or, in .csv/.txt, text split at ';'), each inside the batch file's folder.

    A prompt file may come from someone else: it names files beside it, never `~/.ssh/...` or `/etc/...`.
    """
    if value in (None, "", []):
        return ()
    names = value.split(";") if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("'assets' must be a list of file names beside the batch file, e.g. [\"logo.png\"]")
    found = []
    for name in (n.strip() for n in names if n.strip()):
        relative = Path(name)
        inside = (base / relative).resolve().is_relative_to(base.resolve())
        if relative.is_absolute() or ".." in relative.parts or name.startswith("~") or not inside:
            raise ValueError(f"asset {name!r} is outside the batch file's folder: put the file beside it and name it relatively")
        try:
            assets_module.check(base / relative)
        except UsageError as exc:
            raise ValueError(str(exc).replace("--asset ", "asset ")) from None
        found.append(base / relative)
    return tuple(found)


_EXAMPLES = {"name": '"city-tour"', "size": '"1280x720"', "aspect": '"16:9"'}


def _number(values: dict[str, Any], key: str, kind: type) -> Any:
    value = values.get(key)
    if value in (None, ""):
        return None
    # A number, or a number written as text (.csv and .txt have nothing else); never true/false or a list.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"'{key}' must be a number")
    try:
        number = kind(value)
        whole = float(value) == number
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"'{key}' must be a number") from None
    if kind is int and not whole:
        raise ValueError(f"'{key}' must be a whole number")
    return number


RawItems = tuple[list[tuple[int, Any]], list[Problem]]


def _text(text: str) -> RawItems:
    items = [
        (n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")
    ]
    return items, []


def _jsonl(text: str) -> RawItems:
    items, problems = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(line.encode()) > MAX_ITEM_BYTES:
            problems.append(Problem(n, f"the line is {_TOO_BIG}"))
            continue
        try:
            items.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(n, f"not valid JSON ({exc.msg})"))
        except RecursionError:  # a few thousand "[" fit in a line
            problems.append(Problem(n, "not valid JSON (nested too deeply)"))
    return items, problems


def _yaml(text: str) -> RawItems:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None and isinstance(root, yaml.MappingNode):
            root = next((v for k, v in root.value if k.value == "items"), None)
        if root is None:
            return [], []
        if not isinstance(root, yaml.SequenceNode):
            return [], [Problem(root.start_mark.line + 1, "expected a list of items (or 'items:' with a list)")]
        items = [(node.start_mark.line + 1, loader.construct_object(node, deep=True)) for node in root.value]
        return items, []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Problem(mark.line + 1 if mark else 1, f"not valid YAML ({getattr(exc, 'problem', exc)})")]
    except RecursionError:  # PyYAML composes nested lists and mappings by recursion
        return [], [Problem(1, "not valid YAML (nested too deeply)")]
    finally:
        loader.dispose()


def _csv(text: str) -> RawItems:
    oversized = _oversized_records(text)
    if oversized and oversized[0][0] == 1:
        return [], [Problem(oversized[0][1], f"the header row has a field {_TOO_BIG}")]
    if oversized:
        # Blank lines in their place: csv skips them, and every other record keeps its line number.
        lines = text.split("\n")
        for first, last in oversized:
            lines[first - 1 : last] = [""] * (last - first + 1)
        text = "\n".join(lines)
    problems = [Problem(last, f"a field is {_TOO_BIG}") for _first, last in oversized]
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "prompt" not in [f.strip() for f in reader.fieldnames]:
        return [], [Problem(1, "the header row needs a 'prompt' column")]
    items = []
    for row in reader:
        if None in row:
            problems.append(Problem(reader.line_num, "more cells than the header has columns"))
            continue
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        items.append((reader.line_num, values))
    return items, problems


_CSV_TOKEN = re.compile(r'[^",\n]+|.', re.DOTALL)  # a run of plain text, or one quote, comma or line end


def _oversized_records(text: str) -> list[tuple[int, int]]:
    """The first and last line of every record with a field over MAX_ITEM_BYTES, split as csv (excel) splits them.

    Found before csv reads the file: csv's own limit raises in the middle of a record, and the rest of a
    quoted field would then be read as items of its own.
    """
    found = []
    line = first = 1
    state = "start"  # of a field; "plain", "quoted", or "closing" (a quote seen inside a quoted field)
    size = largest = 0
    for match in _CSV_TOKEN.finditer(text):
        piece = match[0]
        if piece == '"' and state in ("start", "quoted"):
            state = "quoted" if state == "start" else "closing"
            continue
        if piece in ",\n" and state != "quoted":
            largest, size, state = max(largest, size), 0, "start"
            if piece == "\n":
                if largest > MAX_ITEM_BYTES:
                    found.append((first, line))
                line += 1
                first, largest = line, 0
            continue
        if state == "closing":  # a second quote is a quote in the text; anything else carries the field on
            state = "quoted" if piece == '"' else "plain"
        elif state == "start":
            state = "plain"
        size += len(piece.encode())
        if piece == "\n":
            line += 1
    if max(largest, size) > MAX_ITEM_BYTES:  # the last record, with no line end after it (or a quote left open)
        found.append((first, line - text.endswith("\n")))
    return found


_RAW = {".txt": _text, ".jsonl": _jsonl, ".yaml": _yaml, ".yml": _yaml, ".csv": _csv}
