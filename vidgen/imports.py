"""The first ladder stage: what a video imports, and the exports its entry must have.

A video may import the workspace's packages and files inside its own folder: no host
files, no URLs, no Node built-ins (it runs in a browser with no network at render time).
"""

from __future__ import annotations

import re
from pathlib import Path

from . import diagnostics
from .errors import StructuredError
from .workspace import Video

_SPECIFIERS = re.compile(
    r"""(?:^|[\s;}])(?:import|export)\s[^'"`;]*?\sfrom\s*(['"])(?P<a>[^'"]+)\1"""
    r"""|(?:^|[\s;])import\s*(['"])(?P<b>[^'"]+)\3"""
    r"""|\b(?:import|require)\s*\(\s*(['"])(?P<c>[^'"]+)\5\s*\)""",
    re.MULTILINE,
)
_CSS_IMPORTS = re.compile(r"""@import\s+(?:url\()?\s*['"]?(?P<a>[^'")\s;]+)|url\(\s*['"]?(?P<b>https?:[^'")\s]+)""")
# What a specifier cannot be read statically, or what turns webpack's checks off: refused before
# the bundle (the bundler's resolver refuses the same, this says it sooner and more plainly).
_DYNAMIC = (
    (
        re.compile(r"\brequire\s*\.\s*context\s*\(|\bimport\s*\.\s*meta\s*\.\s*webpackContext\b"),
        "reads a whole folder (require.context): import each file by name, e.g. import {Scene} from './Scene'",
    ),
    (
        re.compile(r"""\b(?:import|require)\s*\(\s*(?!(['"])[^'"`\n]*\1\s*[,)])"""),
        "imports a computed path: write each import as a plain string, e.g. import('./Scene')",
    ),
)
# Comments that act: webpack's, which leaves an import for the browser to fetch, and TypeScript's
# reference, which makes the typecheck read any file.
_IGNORE_COMMENT = re.compile(r"webpackIgnore|@vite-ignore|^\s*///\s*<reference\b", re.MULTILINE)
_DEFAULT_EXPORT = re.compile(r"^\s*export\s+default\b|^\s*export\s*\{[^}]*\bas\s+default\b", re.MULTILINE)
_CONFIG_EXPORT = re.compile(r"^\s*export\s+(?:const|let|var|function)\s+config\b|^\s*export\s*\{[^}]*\bconfig\b", re.MULTILINE)


def _package_name(specifier: str) -> str:
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") else parts[0]


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def check_specifier(video: Video, source: Path, specifier: str, allowed: set[str], type_only: bool = False) -> str | None:
    """Why `specifier`, imported by `source`, is not allowed; None when it is.

    Type-only imports vanish from the bundle, so any installed package may give types.
    """
    if specifier.startswith("node:"):
        return f"imports the Node module '{specifier}': videos run in a browser; remove it"
    if re.match(r"^(?!data:)[a-z][a-z0-9+.-]*:", specifier, re.IGNORECASE) or specifier.startswith("//"):
        return f"imports a URL ({specifier}): nothing is fetched at render time; use a package or a file in the video folder"
    if "!" in specifier:
        return f"imports '{specifier}' through a webpack loader prefix: import the file by its plain path, e.g. './data.json'"
    if specifier.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", specifier):
        return f"imports an absolute path ({specifier}): import files inside the video folder with ./"
    if specifier.startswith("."):
        target = (source.parent / specifier).resolve()
        if not diagnostics.in_video(video, str(target)):
            return f"imports {specifier}, which is outside the video folder: keep the video's files in src/videos/{video.name}/"
        return None
    package = _package_name(specifier)
    if specifier.startswith("#") or "\\" in specifier or ".." in specifier.split("/"):
        return f"imports '{specifier}', which climbs out of the package '{package}': import the package's own files only"
    if type_only and _installed(video, package):
        return None
    if package not in allowed:
        known = ", ".join(sorted(allowed))
        return f"imports '{package}', which is not in the template: use one of {known}"
    return None


def _installed(video: Video, package: str) -> bool:
    modules = video.workspace.root / "node_modules"
    types = "@types/" + package.lstrip("@").replace("/", "__")
    return (modules / package / "package.json").is_file() or (modules / types / "package.json").is_file()


def check(video: Video) -> StructuredError | None:
    """The first import or export problem in the video, or None."""
    if not video.entry.is_file():
        return diagnostics.make("imports", f"src/videos/{video.name}/index.tsx is missing: create it", video)
    allowed = video.workspace.dependencies()
    files = sorted(p for p in video.folder.rglob("*") if p.is_file())
    for path in sorted(files, key=lambda p: p != video.entry):
        if path.is_symlink():
            return diagnostics.make(
                "imports", "is a symbolic link: videos must be plain files inside their folder", video, file=path
            )
        if path.suffix in {".ts", ".tsx", ".js", ".jsx", ".mjs"}:
            text = path.read_text(errors="replace")
            stripped = _strip_comments(text)
            dynamic = _dynamic_problem(text, stripped)
            if dynamic:
                return diagnostics.make("imports", dynamic[0], video, file=path, line=dynamic[1])
            for match in _SPECIFIERS.finditer(stripped):
                specifier = match["a"] or match["b"] or match["c"]
                type_only = bool(re.match(r"\s*(import|export)\s+type\s", match[0].lstrip(" ;}")))
                problem = check_specifier(video, path, specifier, allowed, type_only)
                if problem:
                    return diagnostics.make(
                        "imports",
                        problem,
                        video,
                        file=path,
                        line=_line_of(
                            stripped, match.start("a") if match["a"] else match.start("b") if match["b"] else match.start("c")
                        ),
                    )
        elif path.suffix == ".css":
            text = path.read_text(errors="replace")
            for match in _CSS_IMPORTS.finditer(text):
                specifier = match["a"] or match["b"]
                problem = check_specifier(video, path, specifier, allowed)
                if problem:
                    return diagnostics.make("imports", problem, video, file=path, line=_line_of(text, match.start()))
    entry = _strip_comments(video.entry.read_text(errors="replace"))
    if not _DEFAULT_EXPORT.search(entry):
        return diagnostics.make(
            "imports",
            "index.tsx has no default export: add `export default MyVideo;` for the video's component",
            video,
            file=video.entry,
        )
    if not _CONFIG_EXPORT.search(entry):
        return diagnostics.make(
            "imports",
            "index.tsx does not export config: add `export const config = {durationInFrames: 90, fps: 30, width: 1280, height: 720};`",
            video,
            file=video.entry,
        )
    return None


def _dynamic_problem(text: str, stripped: str) -> tuple[str, int] | None:
    """A folder read, a computed import or a webpackIgnore comment, with its line; None if none."""
    found = _IGNORE_COMMENT.search(text)
    if found:
        what = found[0].strip()
        return f"has a {what} comment, which reaches past the import checks: remove it", _line_of(text, found.start())
    for pattern, problem in _DYNAMIC:
        match = pattern.search(stripped)
        if match:
            return problem, _line_of(stripped, match.start())
    return None


def _strip_comments(text: str) -> str:
    """Comments blanked out (newlines kept, so line numbers still match)."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match[0])

    return re.sub(r"/\*.*?\*/|(?<![:'\"])//[^\n]*", blank, text, flags=re.DOTALL)
