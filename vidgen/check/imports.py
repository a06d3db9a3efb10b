"""The first ladder stage: what a video imports, and the exports its entry must have.

A video may import the workspace's packages and files inside its own folder: no host
files, no URLs, no Node built-ins (it runs in a browser with no network at render time).
Scripts are read with a parser (vidgen.syntax); the media they load must be what the bundle serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import StructuredError
from ..media import assets
from ..workspace.project import Video
from . import diagnostics, syntax

# CSS: an @import of anything, and url() with a scheme (what the bundle does not serve).
_CSS_IMPORTS = re.compile(r"""@import\s+(?:url\()?\s*['"]?(?P<a>[^'")\s;]+)""")
_CSS_URLS = re.compile(r"""url\(\s*['"]?(?P<url>[^'")\s]*)|@import\s+['"](?P<imported>[^'"]*)""", re.IGNORECASE)
# What a specifier cannot be read statically, or what turns webpack's checks off: refused before
# the bundle (the bundler's resolver refuses the same, this says it sooner and more plainly).
_DYNAMIC = {
    "context": "reads a whole folder (require.context): import each file by name, e.g. import {Scene} from './Scene'",
    "computed": "imports a computed path: write each import as a plain string, e.g. import('./Scene')",
}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_INLINE_IMAGE = re.compile(r"^data:image/[a-z0-9.+-]+[;,]", re.IGNORECASE)
# Props that make the browser (or Remotion's compositor, for OffthreadVideo) load what they name: on
# any element, and on the SVG and HTML elements whose href loads.
_MEDIA_PROPS = {"src", "srcSet", "srcset", "poster", "{src}", "{poster}"}
_LOADING_HREFS = {"image", "use", "feImage", "link", "script"}
_SERVED = (
    "staticFile('name') for a file in public/, or a file of the video folder imported with ./"
    " (import clip from './clip.mp4'); only images may be inline (data:image/...)"
)
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
    if specifier[:5].lower() == "data:":
        return (
            f"imports a data: URL ({shown(specifier)}), whose content no check reads: put the code or data in a file"
            " of the video folder and import it with ./"
        )
    if _SCHEME.match(specifier) or specifier.startswith("//"):
        return (
            f"imports a URL ({shown(specifier)}): nothing is fetched at render time; use a package or a file in the video folder"
        )
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


def shown(text: str) -> str:
    """How an error quotes a URL: of a data: URL only its media type (its content may be long, or name a host file)."""
    if text[:5].lower() == "data:":
        return text[: min(text.find(",") if "," in text else len(text), 40)] + ",…"
    return text if len(text) <= 80 else text[:80] + "…"


def source_problem(value: str, prop: str | None) -> str | None:
    """Why a string of a video's code loads what the bundle does not serve; None when it does not.

    Given to a media prop (`<OffthreadVideo src>`, `<Img src>`), any scheme but an inline image is refused;
    anywhere else, a data: URL that is not an image (a playlist naming host files, a script) and a file: URL.
    """
    url = re.sub(r"[\t\n\r]", "", value).lstrip(_BLANKS)  # as the browser's URL parser reads it
    scheme = _SCHEME.match(url)
    where = _prop_name(prop)
    if where and (scheme or url.startswith("//")) and not _INLINE_IMAGE.match(url):
        fetched = "nothing is fetched at render time; " if url.lower().startswith(("http", "//")) else ""
        return f"gives {where} '{shown(url)}': {fetched}a video's media must come from the bundle: {_SERVED}"
    if scheme and scheme[1].lower() == "data" and not _INLINE_IMAGE.match(url):
        return f"has a data: URL that is not an image ({shown(url)}) in a string: {_SERVED}"
    if scheme and scheme[1].lower() == "file":
        return f"names a host file ({shown(url)}): a video reads only its own files; use {_SERVED}"
    for match in _CSS_URLS.finditer(url):
        found = (match["url"] or match["imported"] or "").strip()
        if found and (_SCHEME.match(found) or found.startswith("//")) and not _INLINE_IMAGE.match(found):
            return f"loads '{shown(found)}' through CSS url(): a video's images must come from the bundle: {_SERVED}"
    return None


_BLANKS = "".join(chr(code) for code in range(0x21))


def _prop_name(prop: str | None) -> str | None:
    """How a media prop reads in an error (`<OffthreadVideo src>`); None if `prop` loads nothing."""
    if prop is None:
        return None
    element, _, attribute = prop.rpartition(" ")
    if attribute in _MEDIA_PROPS or (attribute in ("href", "xlinkHref", "xlink:href") and element.strip("<>") in _LOADING_HREFS):
        return f"{element[:-1]} {attribute}>" if element else f"the prop {attribute.strip('{}')}"
    return None


def _installed(video: Video, package: str) -> bool:
    modules = video.workspace.root / "node_modules"
    types = "@types/" + package.lstrip("@").replace("/", "__")
    return (modules / package / "package.json").is_file() or (modules / types / "package.json").is_file()


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
    # A parse error is the typecheck's to report: what the parser found is checked all the same.
    script = syntax.parse(path.read_text(errors="replace"), path.suffix)
    if script.comments:
        what, line = script.comments[0]
        acting = f"has a {what} comment, which reaches past the import checks: remove it"
        return [Problem(path, line, acting, acting.split(":")[0])]
    dynamic = sorted(script.dynamic, key=lambda found: found[0] != "context")
    if dynamic:
        kind, line = dynamic[0]
        return [Problem(path, line, _DYNAMIC[kind], _DYNAMIC[kind].split(":")[0])]
    found: list[Problem] = []
    for imported in script.imports:
        problem = check_specifier(video, path, imported.specifier, allowed, imported.type_only)
        if problem:
            found.append(Problem(path, imported.line, problem, f"imports '{shown(imported.specifier)}'"))
    specifiers = {(imported.specifier, imported.line) for imported in script.imports}
    for literal in script.literals:
        loads = None if (literal.value, literal.line) in specifiers else source_problem(literal.value, literal.prop)
        if loads:
            found.append(Problem(path, literal.line, loads, f"loads '{shown(literal.value)}'"))
    for name, line in script.static_files:
        name = name.lstrip("/")
        if name not in public:
            found.append(Problem(path, line, _missing_static(name, public), f"staticFile('{name}') does not exist"))
    return sorted(found, key=lambda problem: problem.line or 0)


def _css_problems(video: Video, path: Path, allowed: set[str]) -> list[Problem]:
    text = path.read_text(errors="replace")
    found = []
    for match in _CSS_IMPORTS.finditer(text):
        problem = check_specifier(video, path, match["a"], allowed)
        if problem:
            found.append(Problem(path, _line_of(text, match.start()), problem, f"imports '{shown(match['a'])}'"))
    imported = {problem.line for problem in found}
    for match in _CSS_URLS.finditer(text):
        line = _line_of(text, match.start())
        problem = None if match["imported"] or line in imported else source_problem(f"url({match['url']})", None)
        if problem:
            found.append(Problem(path, line, problem, f"loads '{shown(match['url'])}'"))
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
    listed = ", ".join(public[:12]) + (f" and {len(public) - 12} more" if len(public) > 12 else "")
    return f"staticFile('{name}') names a file that does not exist in public/: use one of {listed}"


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


def _strip_comments(text: str) -> str:
    """Comments blanked out (newlines kept, so line numbers still match)."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match[0])

    return re.sub(r"/\*.*?\*/|(?<![:'\"])//[^\n]*", blank, text, flags=re.DOTALL)
