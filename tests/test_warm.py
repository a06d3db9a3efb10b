"""`vidgen init` warms the render cache after `npm ci`: webpack's cache under the name the first render's
service reads, and the record that lets it skip lint and typecheck; a failure of it never fails init."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from vidgen import settings as settings_module
from vidgen.cli import project as project_cli
from vidgen.engine.session import Session
from vidgen.render import ladder, warm
from vidgen.workspace import project as workspace_module

from .helpers import vidgen


def _packs(root: Path, cache: str) -> dict[Path, tuple[int, int]]:
    """webpack's cache files of the service named `cache`, each with its inode and time."""
    folders = (root / "node_modules" / ".cache" / "webpack").glob(f"remotion-production-*/*-{cache}")
    return {
        path: (path.stat().st_ino, path.stat().st_mtime_ns) for folder in folders for path in folder.rglob("*") if path.is_file()
    }


@pytest.fixture
def new_workspace(workspace: workspace_module.Workspace, tmp_path: Path) -> workspace_module.Workspace:
    """A workspace as `vidgen init` leaves it before warming: the suite's installed packages, hard-linked, and
    none of the caches the suite's workspace has gathered (a new folder in place of the linked one)."""
    ws = workspace_module.create(tmp_path / "new", install=False)
    subprocess.run(["cp", "-al", str(workspace.root / "node_modules"), str(ws.root)], check=True)
    shutil.rmtree(ws.root / "node_modules" / ".cache", ignore_errors=True)
    return ws


def test_init_warms_the_cache_the_first_render_reads(new_workspace: workspace_module.Workspace, capsys) -> None:
    ws = new_workspace
    settings = settings_module.load(ws.root)
    assert warm.cache_name(settings) == "daemon" and settings.render.daemon  # a render goes through the daemon

    assert project_cli.warm_render_cache(ws) is True
    shown = capsys.readouterr().err
    assert "warm: warming the render cache" in shown and "not warmed" not in shown, shown
    stored = _packs(ws.root, "daemon")
    assert any(path.suffix == ".pack" and path.stat().st_size > 0 for path in stored), stored
    assert (ws.state_dir / "checked" / "hello").is_file()

    # The first render's checks, on a service with the daemon's cache: lint and typecheck are skipped, and
    # webpack serves the bundle from the stored cache, so it has nothing new to store when the service stops.
    with Session.open(ws, settings, cache="daemon") as first:
        result = ladder.run(first, ws.video("hello"), stills=ladder.Stills.NONE)
    assert result.error is None and result.composition is not None, result.error
    assert result.skipped == ["lint", "typecheck"]
    assert _packs(ws.root, "daemon") == stored


def test_the_cache_name_follows_the_daemon_setting(tmp_path: Path) -> None:
    ws = workspace_module.create(tmp_path / "ws", install=False)
    (ws.root / "vidgen.toml").write_text((ws.root / "vidgen.toml").read_text().replace("daemon = true", "daemon = false", 1))
    assert warm.cache_name(settings_module.load(ws.root)) == "command"  # as `render.daemon = false` renders


def test_a_failed_warming_leaves_the_workspace_and_says_so_in_one_line(tmp_path: Path, capsys) -> None:
    ws = workspace_module.create(tmp_path / "ws", install=False)  # no node_modules: nothing can be bundled
    assert project_cli.warm_render_cache(ws) is False
    notes = [line for line in capsys.readouterr().err.splitlines() if "not warmed" in line]
    assert len(notes) == 1 and "npm ci" in notes[0] and "the first render warms it" in notes[0], notes
    assert (ws.root / "vidgen.toml").is_file() and not (ws.state_dir / "checked").exists()


def test_init_without_install_warms_nothing(tmp_path: Path) -> None:
    done = vidgen("init", "ws", "--no-install", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["warmed"] is False
    assert "warming" not in done.stderr
    assert not (tmp_path / "ws" / ".vidgen" / "checked").exists() and not (tmp_path / "ws" / "node_modules").exists()
