"""The Node side's own tests (`node --test`: the Remotion adapter, the jail's judgement, failed loads,
error descriptions, the frame driver), its lint and its types (`tsc --checkJs`), run with the workspace's
packages as the service is."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from vidgen.workspace import resources

SERVICE = resources.template_dir() / "service"


@pytest.mark.render
def test_the_node_side_passes_its_own_tests(workspace) -> None:
    done = subprocess.run(
        ["node", "--test", "--test-reporter=tap", str(SERVICE / "test")],
        cwd=workspace.root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    counts = dict(line[2:].split(" ", 1) for line in done.stdout.splitlines() if line.startswith("# ") and line.count(" ") == 2)
    assert int(counts["pass"]) >= 38 and counts["fail"] == "0", counts


@pytest.mark.render
def test_the_node_side_is_lint_clean(workspace) -> None:
    done = subprocess.run(
        [str(workspace.root / "node_modules" / ".bin" / "eslint"), "--no-config-lookup", "--config", "eslint.config.mjs", "."],
        cwd=SERVICE, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.mark.render
def test_the_node_side_typechecks(workspace) -> None:
    # TypeScript finds the types of what the service requires (Remotion, ESLint, Node's own) from the
    # files' folder upward; the service runs from the package, away from any node_modules, so a copy of
    # it is checked inside the workspace, beside the packages it runs with.
    with tempfile.TemporaryDirectory(dir=workspace.root, prefix=".service-tsc-") as scratch:
        copy = Path(scratch) / "service"
        shutil.copytree(SERVICE, copy)
        done = subprocess.run(
            [str(workspace.root / "node_modules" / ".bin" / "tsc"), "-p", str(copy / "tsconfig.json")],
            cwd=copy, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
