"""Reading the model's reply: whole files, one fenced block per file, path in the info string.

````
```tsx index.tsx
...the whole file...
```
````

Anything else is a classified ReplyError that goes back to the model like any other error.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ..errors import ReplyError

_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_FIRST_LINE_PATH = re.compile(r"^(?://|/\*)\s*(?:file(?:name)?:\s*)?([\w./-]+\.(?:tsx|ts|json|css))\s*(?:\*/)?$")
_LANGUAGES = {"tsx", "ts", "typescript", "jsx", "js", "javascript", "json", "css", "react", "typescriptreact"}
FORMAT_REMINDER = (
    "Reply with whole files only, one fenced block per file, the info string giving the language and the path"
    " relative to the video folder, for example:\n```tsx index.tsx\n...the whole file...\n```"
)


_NAME_LINE = re.compile(r"^[\W_]*name[\W_]*[:=][*_\s`'\"]*([a-z0-9][a-z0-9-]*)[*_\s`'\".]*$", re.IGNORECASE)


def video_name(reply: str) -> str | None:
    """The name a reply gives its video in a `name: ...` line before its first file; None without one."""
    for line in reply.splitlines():
        if _OPEN.match(line):
            return None
        found = _NAME_LINE.match(line.strip())
        if found:
            return found[1].lower()
    return None


@dataclass(frozen=True)
class FileBlock:
    path: str
    language: str
    text: str


def _path_and_language(info: str) -> tuple[str | None, str]:
    tokens = [t for t in re.split(r"[\s:]+", info.strip()) if t]
    tokens = [t.split("=", 1)[1].strip("'\"") if "=" in t else t for t in tokens]
    language = next((t.lower() for t in tokens if t.lower() in _LANGUAGES), "")
    path = next((t for t in tokens if "." in t or "/" in t), None)
    return path, language


def parse(reply: str, video_name: str, *, require_index: bool) -> list[FileBlock]:
    """The files in a reply, or a ReplyError saying what is wrong with it."""
    lines = reply.splitlines()
    blocks: list[FileBlock] = []
    i = 0
    while i < len(lines):
        opening = _OPEN.match(lines[i])
        if not opening:
            i += 1
            continue
        fence = opening["fence"]
        path, language = _path_and_language(opening["info"])
        body: list[str] = []
        i += 1
        closed = False
        while i < len(lines):
            stripped = lines[i].strip()
            # A closing fence is the fence's character alone, at least as long as the opening one:
            # backticks inside the code (template literals) never close the block.
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                closed = True
                i += 1
                break
            body.append(lines[i])
            i += 1
        if not closed:
            raise ReplyError(
                "unterminated",
                f"the code block for {path or 'a file'} is not closed: the reply was cut off or a fence is missing",
                path,
            )
        if path is None and body and (named := _FIRST_LINE_PATH.match(body[0].strip())):
            path, body = named[1], body[1:]  # `// file: index.tsx` as the block's first line
        if path is None:
            if language not in _LANGUAGES:
                continue  # a shell or text snippet in the prose, not a file
            raise ReplyError("no_path", "a code block has no file path in its info string (write ```tsx index.tsx)")
        text = "\n".join(body) + "\n"
        if "\n" not in text.rstrip("\n") and text.count("\\n") >= 3:
            raise ReplyError(
                "json_escaped", f"{path} arrived JSON-escaped (\\n instead of new lines): send it as plain code", path
            )
        blocks.append(FileBlock(normalise_path(path, video_name), language, text))
    if not blocks:
        if "```" in reply or "~~~" in reply:
            raise ReplyError("no_files", "the reply has code blocks but none names a file")
        raise ReplyError("no_code", "the reply has no code blocks, only prose")
    seen: set[str] = set()
    for block in blocks:
        if block.path in seen:
            raise ReplyError("duplicate", f"{block.path} appears twice in the reply: send each file once", block.path)
        seen.add(block.path)
    if require_index and "index.tsx" not in seen:
        raise ReplyError("no_index", "the reply has no index.tsx: the video's entry file is required", None)
    return blocks


def normalise_path(path: str, video_name: str) -> str:
    """A path relative to the video folder; the workspace-relative form is accepted too."""
    path = path.strip().strip("'\"`").replace("\\", "/")
    for prefix in (f"src/videos/{video_name}/", f"./src/videos/{video_name}/", f"videos/{video_name}/", "./"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
    return str(PurePosixPath(path)) if path else path


NOTE_CHARS = 280


def summary(reply: str, video_name: str, before: Mapping[str, str]) -> dict[str, Any]:
    """A reply in short, for the page's chat: its files, each `new`, `changed` or `same` against `before`
    (the files on disk before it is written) with its lines and the lines it adds and removes; its own
    explanation (the prose before its first file, which the system prompt allows, at most NOTE_CHARS
    characters); and `problem` when it cannot be read as files (the turn's error says the rest)."""
    prose = []
    for line in reply.splitlines():
        if _OPEN.match(line):
            break
        if line.strip() and not _NAME_LINE.match(line.strip()):
            prose.append(line.strip())
    note = " ".join(prose)
    note = note if len(note) <= NOTE_CHARS else note[: NOTE_CHARS - 1] + "…"
    try:
        blocks = parse(reply, video_name, require_index=False)
    except ReplyError as exc:
        return {"files": [], "note": note, "problem": str(exc)}
    files = []
    for block in blocks:
        old = before.get(block.path)
        diff = list(difflib.ndiff((old or "").splitlines(), block.text.splitlines())) if old is not None else []
        files.append(
            {
                "path": block.path,
                "lines": len(block.text.splitlines()),
                "change": "new" if old is None else ("same" if old == block.text else "changed"),
                "added": sum(1 for line in diff if line.startswith("+ ")) if old is not None else len(block.text.splitlines()),
                "removed": sum(1 for line in diff if line.startswith("- ")),
            }
        )
    return {"files": files, "note": note, "problem": None}
