"""Issue 22's package move, reproducible: `python tools/house_move.py` on a tree with the flat layout.

It moves each module with `git mv`, rewrites every import of a moved module in vidgen/ and tests/
(keeping each importer's local names, so no function body changes), and the few module paths
written as text (the daemon's `-m`, Makefile, docs). Then `ruff check --fix --select I` and
`ruff format` sort and wrap the rewritten imports.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MOVES = {
    # cli/: the commands (named by the commands they hold), output, progress, doctor
    "cli.model": "cli.new",
    "cli.rendering": "cli.render",
    "doctor": "cli.doctor",
    "progress": "cli.progress",
    # mcp/, batch/
    "mcp_server": "mcp.server",
    "mcp_calls": "mcp.calls",
    "batch": "batch.runner",
    "batchfile": "batch.file",
    "manifest": "batch.manifest",
    "report": "batch.report",
    # agent/
    **{m: f"agent.{m}" for m in ("loop", "prompts", "replies", "writer", "critique", "watch", "demo")},
    # render/
    "ladder": "render.ladder",
    "render": "render.video",
    "faults": "render.faults",
    "timeline": "render.timeline",
    # check/
    **{m: f"check.{m}" for m in ("imports", "diagnostics", "hints", "layout", "constraints", "checked", "locations", "syntax")},
    # sound/
    **{m: f"sound.{m}" for m in ("narration", "voice", "music")},
    # media/
    "media": "media.probe",
    **{m: f"media.{m}" for m in ("previews", "sheet", "assets", "viewer")},
    # engine/
    **{m: f"engine.{m}" for m in ("service", "daemon", "protocol", "session", "sandbox", "browser", "netns_exec")},
    "daemon_client": "engine.client",
    # model/
    "model": "model.client",
    **{m: f"model.{m}" for m in ("providers", "keys", "scripted")},
    # workspace/
    "workspace": "workspace.project",
    "renders": "workspace.outputs",
    "resources": "workspace.resources",
    **{m: f"workspace.{m}" for m in ("state", "history", "transcript", "files", "tree")},
}
MAP = {f"vidgen.{old}": f"vidgen.{new}" for old, new in MOVES.items()}

PACKAGES = {
    "agent": "The model's side of the pipeline: prompts, replies, the guarded writer, the repair loop and its drivers.",
    "batch": "Many videos from one batch file: its items, the run, its manifest and its report.",
    "check": "What a video's code is checked for before it renders: imports, constraints, diagnostics, layout.",
    "engine": "The render service and what runs it: the Node process, the daemon, its client, the jail, the browser.",
    "mcp": "The pipeline as Model Context Protocol tools and resources.",
    "media": "Rendered files read and made with ffmpeg and Pillow: probes, previews, the contact sheet, assets.",
    "model": "Language models: the HTTP client, the providers and their keys, the scripted test model.",
    "render": "Rendering one video: the validation ladder, the render, its verification and the retry of faults.",
    "sound": "Narration, voices and music under a video.",
    "workspace": "The workspace on disk: its videos, their state, history, kept renders and transcripts.",
}


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def new_module(mod: str) -> str:
    return MAP.get(mod, mod)


def is_module(mod: str) -> bool:
    base = ROOT / mod.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def relative(from_package: str, target: str) -> str:
    here, there = from_package.split("."), target.split(".")
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    return "." * (len(here) - common + 1) + ".".join(there[common:])


def rewrite(path: Path) -> str:
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    old_mod = module_of(path)
    old_pkg = old_mod if path.name == "__init__.py" else old_mod.rpartition(".")[0]
    inside = old_mod.split(".")[0] == "vidgen"
    new_mod = new_module(old_mod)
    new_pkg = new_mod if path.name == "__init__.py" else new_mod.rpartition(".")[0]

    def spell(target: str) -> str:
        return relative(new_pkg, target) if inside else target

    edits = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.ImportFrom):
            if isinstance(node, ast.Import) and any(a.name.startswith("vidgen.") for a in node.names):
                raise SystemExit(f"{path}:{node.lineno}: `import vidgen.x` is not handled")
            continue
        if node.level:
            base = old_pkg.split(".")[: len(old_pkg.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target != "vidgen" and not target.startswith("vidgen."):
            continue
        groups: dict[str, list[str]] = {}
        for alias in node.names:
            full = f"{target}.{alias.name}"
            if target not in MAP and is_module(full) and full in MAP:
                parent, _, leaf = MAP[full].rpartition(".")
                local = alias.asname or alias.name
                groups.setdefault(parent, []).append(leaf if local == leaf else f"{leaf} as {local}")
            else:
                name = alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
                groups.setdefault(new_module(target), []).append(name)
        statements = [f"from {spell(mod)} import {', '.join(names)}" for mod, names in groups.items()]
        first, last = lines[node.lineno - 1], lines[node.end_lineno - 1]
        if first[: node.col_offset].strip():
            raise SystemExit(f"{path}:{node.lineno}: an import that does not start its line")
        tail = last.encode()[node.end_col_offset :].decode().rstrip("\n")
        comment = tail.strip()
        if comment and not comment.startswith("#"):
            raise SystemExit(f"{path}:{node.lineno}: code after an import")
        original = "".join(lines[node.lineno - 1 : node.end_lineno])
        indent = first[: node.col_offset]
        statements[0] += f"  {comment}" if comment else ""
        replacement = "".join(f"{indent}{s}\n" for s in statements)
        if " ".join(original.split()) != " ".join(replacement.split()):
            edits.append((node.lineno, node.end_lineno, replacement))
    for start, end, replacement in sorted(edits, reverse=True):
        lines[start - 1 : end] = [replacement]
    return "".join(lines)


def path_of(mod: str) -> Path:
    return ROOT / (mod.replace(".", "/") + ".py")


TEXT_PATH = re.compile(r"vidgen/((?:cli/)?[a-z_]+)\.py")
TEXT_MODULE = re.compile(r"(-m |from )vidgen\.([a-z_]+)\b")


def rewrite_text(text: str) -> str:
    def path(m: re.Match[str]) -> str:
        mod = "vidgen." + m.group(1).replace("/", ".")
        return new_module(mod).replace(".", "/") + ".py"

    def module(m: re.Match[str]) -> str:
        return m.group(1) + new_module(f"vidgen.{m.group(2)}")

    return TEXT_MODULE.sub(module, TEXT_PATH.sub(path, text))


def main() -> None:
    sources = sorted(p for d in ("vidgen", "tests") for p in (ROOT / d).rglob("*.py"))
    rewritten = {p: rewrite(p) for p in sources}
    for package, doc in PACKAGES.items():
        (ROOT / "vidgen" / package).mkdir(exist_ok=True)
    for old, new in MAP.items():
        subprocess.run(["git", "mv", str(path_of(old)), str(path_of(new))], cwd=ROOT, check=True)
    for package, doc in PACKAGES.items():
        init = ROOT / "vidgen" / package / "__init__.py"
        init.write_text(f'"""{doc}"""\n')
        subprocess.run(["git", "add", str(init)], cwd=ROOT, check=True)
    inverse = {path_of(old): path_of(new) for old, new in MAP.items()}
    for old_path, text in rewritten.items():
        inverse.get(old_path, old_path).write_text(text)
    # A module that finds files by its own place: one folder deeper now.
    for mod in ("vidgen.workspace.resources", "vidgen.engine.client"):
        p = path_of(mod)
        p.write_text(p.read_text().replace("Path(__file__).resolve().parent\n", "Path(__file__).resolve().parent.parent\n", 1))
    # The daemon is started (and recognised in /proc) by its module name.
    client = path_of("vidgen.engine.client")
    client.write_text(client.read_text().replace('"vidgen.daemon"', '"vidgen.engine.daemon"'))
    # A plugin imports Provider by its module path (the test's plugin is a string).
    plugin_test = ROOT / "tests/test_providers.py"
    plugin_test.write_text(plugin_test.read_text().replace("from vidgen.providers import", "from vidgen.model.providers import"))
    texts = [ROOT / "Makefile", ROOT / "README.md", *(ROOT / "docs").glob("*.md"), ROOT / "tests/test_daemon.py"]
    texts += [ROOT / "remotion-template/service" / n for n in ("PROTOCOL.md", "render-service.mjs")]
    for p in texts:
        p.write_text(rewrite_text(p.read_text()))
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "check", "--fix", "--select", "I", "-q", "vidgen", "tests"], cwd=ROOT, check=False)
    subprocess.run([*ruff, "format", "-q", "vidgen", "tests"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
