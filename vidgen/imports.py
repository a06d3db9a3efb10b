"""The first ladder stage: what a video imports, and the exports its entry must have.

A video may import the workspace's packages and files inside its own folder: no host
files, no URLs, no Node built-ins (it runs in a browser with no network at render time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import assets, diagnostics
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


# `staticFile('name')` with a literal name: the file must be in the workspace's public/ folder.
_STATIC_FILE = re.compile(r"""\bstaticFile\s*\(\s*(['"`])(?P<name>[^'"`$]*)\1\s*\)""")
# CSS that moves by the wall clock, not the frame (the lint stage sees only .ts/.tsx).
_CSS_MOTION = re.compile(r"@keyframes\b|(?:^|[;{\s])(?:animation(?:-name)?|transition)\s*:", re.MULTILINE)
_SCRIPTS = {".ts", ".tsx", ".js", ".jsx", ".mjs"}


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int | None
    message: str
    short: str  # how it reads in the list of further problems


def check(video: Video) -> StructuredError | None:
    """The import and export problems of the video, all files at once: the first located, the rest listed."""
    if not video.entry.is_file():
        return diagnostics.make("imports", f"src/videos/{video.name}/index.tsx is missing: create it", video)
    problems = _problems(video)
    if not problems:
        return _export_problem(video)
    first, rest = problems[0], problems[1:]
    message = first.message
    if rest:
        listed = "; ".join(f"{video.relative(p.file)}:{p.line} {p.short}" for p in rest[:8])
        more = f" and {len(rest) - 8} more" if len(rest) > 8 else ""
        message += f" (also: {listed}{more})"
    return diagnostics.make("imports", message, video, file=first.file, line=first.line)


def _problems(video: Video) -> list[Problem]:
    allowed = video.workspace.dependencies()
    public = _public_files(video)
    files = sorted(p for p in video.folder.rglob("*") if p.is_file() or p.is_symlink())
    found: list[Problem] = []
    for path in sorted(files, key=lambda p: p != video.entry):
        if path.is_symlink():
            problem = "is a symbolic link: videos must be plain files inside their folder"
            found.append(Problem(path, None, problem, "is a symbolic link"))
        elif path.suffix in _SCRIPTS:
            found.extend(_script_problems(video, path, allowed, public))
        elif path.suffix == ".css":
            found.extend(_css_problems(video, path, allowed))
    return found


def _script_problems(video: Video, path: Path, allowed: set[str], public: list[str]) -> list[Problem]:
    text = path.read_text(errors="replace")
    stripped = _strip_comments(text)
    dynamic = _dynamic_problem(text, stripped)
    if dynamic:
        return [Problem(path, dynamic[1], dynamic[0], dynamic[0].split(":")[0])]
    found = []
    for match in _SPECIFIERS.finditer(stripped):
        group = "a" if match["a"] else "b" if match["b"] else "c"
        specifier = match[group]
        type_only = bool(re.match(r"\s*(import|export)\s+type\s", match[0].lstrip(" ;}")))
        problem = check_specifier(video, path, specifier, allowed, type_only)
        if problem:
            found.append(Problem(path, _line_of(stripped, match.start(group)), problem, f"imports '{specifier}'"))
    for match in _STATIC_FILE.finditer(stripped):
        name = match["name"].lstrip("/")
        if name not in public:
            found.append(
                Problem(
                    path, _line_of(stripped, match.start()), _missing_static(name, public), f"staticFile('{name}') does not exist"
                )
            )
    return found


def _css_problems(video: Video, path: Path, allowed: set[str]) -> list[Problem]:
    text = path.read_text(errors="replace")
    found = []
    for match in _CSS_IMPORTS.finditer(text):
        specifier = match["a"] or match["b"]
        problem = check_specifier(video, path, specifier, allowed)
        if problem:
            found.append(Problem(path, _line_of(text, match.start()), problem, f"imports '{specifier}'"))
    stripped = _strip_comments(text)
    for match in _CSS_MOTION.finditer(stripped):
        line = _line_of(stripped, match.start() + (len(match[0]) - len(match[0].lstrip())))
        problem = (
            "CSS animations and transitions do not follow the frame: drive animation with useCurrentFrame() and"
            " interpolate()/spring() in the component instead"
        )
        found.append(Problem(path, line, problem, "CSS animation or transition"))
    return found


def _public_files(video: Video) -> list[str]:
    """What `staticFile` can serve, as names relative to public/."""
    public = video.workspace.root / "public"
    return [str(p.relative_to(public)) for p in assets.public_files(video.workspace)]


def _missing_static(name: str, public: list[str]) -> str:
    if not public:
        return (
            f"staticFile('{name}') names a file that does not exist: public/ is empty, so draw it with CSS or SVG,"
            " or ask the user to add the file"
        )
    shown = ", ".join(public[:12]) + (f" and {len(public) - 12} more" if len(public) > 12 else "")
    return f"staticFile('{name}') names a file that does not exist in public/: use one of {shown}"


def _export_problem(video: Video) -> StructuredError | None:
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
