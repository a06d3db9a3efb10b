"""The import rule between vidgen's packages (docs/architecture.md): a package imports only packages below it.

Every import is read, at any depth: one inside a function is still a dependency, and a rule that looked
only at the top of a module could be dodged by moving the import into the function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "vidgen"
SERVICE = PACKAGE.parent / "remotion-template" / "service"

# Top to bottom; the packages on one line do not import each other.
LAYERS = [
    ["cli"],
    ["mcp", "batch", "ui"],
    ["agent"],
    ["render"],
    ["cloud"],
    ["sound"],
    ["check"],
    ["engine"],
    ["media"],
    ["model", "workspace"],
    ["settings"],
    ["loader"],
    ["errors"],
]
RANK = {package: rank for rank, line in enumerate(LAYERS) for package in line}
# The package's face: `vidgen/__init__.py` (the public API, loaded lazily) and `python -m vidgen` sit above all.
FACE = {"__init__", "__main__"}


def package_of(module: str) -> str:
    """`vidgen.engine.client` -> `engine`; `vidgen.errors` -> `errors`."""
    return module.split(".")[1]


def imported(path: Path, root: Path) -> list[tuple[int, str]]:
    """Every vidgen module or package `path` imports, with its line, resolved to an absolute name."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            if target == root.name:  # `from vidgen import x`: x is a package, a module, or the version
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names if alias.name != "__version__"]
            else:
                found.append((node.lineno, target))
    return [(line, name) for line, name in found if name.split(".")[0] == root.name]


def violations(root: Path) -> list[str]:
    """One line per import that goes up or sideways: file, line, the importing package and the imported one."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts == (relative.name,) and path.stem in FACE:
            continue
        source = package_of(".".join((root.name, *relative.with_suffix("").parts)))
        if source not in RANK:
            problems.append(f"{path}: package {source!r} has no layer in LAYERS (docs/architecture.md)")
            continue
        for line, name in imported(path, root):
            target = package_of(name)
            if target == source:
                continue
            if target not in RANK:
                problems.append(f"{path}:{line}: {source} imports {target}, which has no layer")
            elif RANK[target] <= RANK[source]:
                where = "beside" if RANK[target] == RANK[source] else "above"
                problems.append(f"{path}:{line}: {source} imports {target}, which is {where} it")
    return problems


def test_no_package_imports_one_above_it() -> None:
    assert violations(PACKAGE) == []


@pytest.mark.parametrize(
    ("where", "code", "expected"),
    [
        ("engine/x.py", "from ..render import ladder\n", "engine imports render, which is above it"),
        ("engine/x.py", "def f():\n    from ..agent.loop import run\n", "engine imports agent, which is above it"),
        ("errors.py", "import vidgen.settings\n", "errors imports settings, which is above it"),
        ("mcp/x.py", "from vidgen import batch\n", "mcp imports batch, which is beside it"),
        ("render/x.py", "from . import ladder\nfrom ..check import layout\nfrom .. import __version__\n", None),
    ],
)
def test_the_rule_catches_an_import_going_up(tmp_path: Path, where: str, code: str, expected: str | None) -> None:
    root = tmp_path / "vidgen"
    (root / where).parent.mkdir(parents=True, exist_ok=True)
    (root / where).write_text(code)
    found = violations(root)
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].endswith(expected) and f"{where}:" in found[0]


def test_no_module_is_over_400_lines() -> None:
    """A module that grows past ~400 lines holds more than one thing (DESIGN.md's habits): split it where it seams.
    The render service's Node modules and page scripts (and their tests) are held to it too."""
    modules = [*PACKAGE.rglob("*.py"), *(path for pattern in ("*.mjs", "*.js", "*.cjs") for path in SERVICE.rglob(pattern))]
    sizes = {str(path.relative_to(PACKAGE.parent)): len(path.read_text().splitlines()) for path in modules}
    assert {name: lines for name, lines in sizes.items() if lines > 400} == {}
