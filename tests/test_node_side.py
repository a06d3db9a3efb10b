"""The Node side's own tests (`node --test`: the Remotion adapter, the jail's judgement, failed loads,
error descriptions, the frame driver) and its lint, run with the workspace's packages as the service is."""

from __future__ import annotations

import subprocess

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
    assert int(counts["pass"]) >= 13 and counts["fail"] == "0", counts


@pytest.mark.render
def test_the_node_side_is_lint_clean(workspace) -> None:
    done = subprocess.run(
        [str(workspace.root / "node_modules" / ".bin" / "eslint"), "--no-config-lookup", "--config", "eslint.config.mjs", "."],
        cwd=SERVICE, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
