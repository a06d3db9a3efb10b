"""The command line as a user meets it: exit codes, one-line errors, --json, Ctrl-C, a full disk."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidgen.workspace import project as workspace_module

from .helpers import (
    MOVING,
    VIDGEN,
    assert_one_line_error,
    component,
    ctrl_c_reaches_it,
    descendants,
    group_members,
    service_groups,
    still_running,
    vidgen,
    wait_for_file,
)


def test_outside_a_workspace(tmp_path: Path) -> None:
    assert_one_line_error(vidgen("list", cwd=tmp_path), 2, "no vidgen workspace", "vidgen init")


@pytest.mark.parametrize("name", ["../escape", "a/b", "Upper", "has space", ".."])
def test_invalid_video_names(workspace, name: str) -> None:
    assert_one_line_error(vidgen("render", name, cwd=workspace.root), 2, "invalid video name")


def test_missing_video_and_bad_flags(workspace) -> None:
    assert_one_line_error(vidgen("check", "nope", cwd=workspace.root), 2, "no video 'nope'", "vidgen list")
    done = vidgen("render", "hello", "--codec", "avi", cwd=workspace.root)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Invalid value for '--codec': 'avi' is not one of 'h264', 'vp9', 'prores', 'gif'." in done.stderr


def test_missing_node_modules(tmp_path: Path) -> None:
    ws = workspace_module.create(tmp_path / "fresh", install=False)
    assert_one_line_error(vidgen("render", "hello", cwd=ws.root), 2, "npm ci")


def test_init_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    assert_one_line_error(vidgen("init", str(tmp_path), cwd=tmp_path), 2, "not empty")
    assert (tmp_path / "mine.txt").read_text() == "keep me"


@pytest.mark.render
def test_render_json_and_check_json_and_list(workspace, make_video) -> None:
    make_video("cli-good", {"index.tsx": component(MOVING)})
    done = vidgen("render", "cli-good", "--json", cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    keys = {"name", "status", "output", "duration_s", "width", "height", "fps", "frames", "error", "findings", "captions"}
    keys |= {"previews", "poster", "preview", "sheet", "exit_code", "infra", "retried"}
    assert set(payload) == keys
    # On the daemon the command may end before its previews are made: they follow within seconds.
    assert payload["previews"] in {"done", "pending"} and wait_for_file(Path(payload["poster"]))
    assert payload["status"] == "rendered" and payload["error"] is None and payload["exit_code"] == 0
    assert Path(payload["output"]).is_absolute() and Path(payload["output"]).exists()
    assert (payload["width"], payload["height"], payload["fps"], payload["frames"], payload["duration_s"]) == (
        640,
        360,
        30,
        30,
        1.0,
    )

    make_video("cli-broken", {"index.tsx": component("const n: number = 'x';\nreturn <AbsoluteFill />;")})
    done = vidgen("check", "cli-broken", "--json", cwd=workspace.root)
    assert done.returncode == 1
    payload = json.loads(done.stdout)
    assert payload["status"] == "failed" and payload["output"] is None
    assert payload["error"]["stage"] == "typecheck" and payload["error"]["line"] == 8

    listed = vidgen("list", cwd=workspace.root).stdout
    assert any(line.startswith("cli-good") and "rendered at" in line for line in listed.splitlines())
    assert any(line.startswith("cli-broken") and "failed at typecheck" in line for line in listed.splitlines())


@pytest.mark.render
def test_ctrl_c_during_render_keeps_the_previous_mp4(workspace, make_video) -> None:
    make_video("cli-interrupt", {"index.tsx": component(MOVING, frames=60)})
    first = vidgen("render", "cli-interrupt", cwd=workspace.root)
    assert first.returncode == 0, first.stderr
    output = workspace.out_dir / "cli-interrupt.mp4"
    before = output.read_bytes()
    process = subprocess.Popen(
        # In the command's own service (the daemon's Ctrl-C is tests/test_daemon.py's).
        [*VIDGEN, "render", "cli-interrupt", "--no-daemon"],
        cwd=workspace.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_reaches_it,
        env={**os.environ, "VIDGEN_PROGRESS_INTERVAL": "0.2"},
    )
    # Interrupt once the full render has drawn frames (its progress lines say so), while it runs.
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if re.match(r"render \d+% \(\d+/60 frames", line):
            break
    assert seen and seen[-1].startswith("render "), "".join(seen)
    service_pgids = service_groups(process.pid)
    assert len(service_pgids) == 1, service_pgids
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    stderr = "".join(seen) + rest
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert output.read_bytes() == before
    assert not [p for p in workspace.out_dir.iterdir() if ".partial" in p.name]
    for pgid in service_pgids:
        assert group_members(pgid) == set()


@pytest.mark.render
def test_a_full_disk_fails_cleanly_and_keeps_the_last_render(workspace, make_video, tmp_path: Path) -> None:
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24k", "tmpfs", str(tiny)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        previous = tiny / "full.mp4"
        previous.write_bytes(b"the last good render")
        noisy = "return <AbsoluteFill style={{background: `hsl(${frame * 12}, 80%, 50%)`}}><h1 style={{fontSize: 40 + frame}}>{frame}</h1></AbsoluteFill>;"
        make_video("cli-full", {"index.tsx": component(noisy, frames=60)})
        done = vidgen("render", "cli-full", "--out", str(previous), cwd=workspace.root)
        assert done.returncode == 1
        assert "disk is full" in done.stderr and "Traceback" not in done.stderr
        assert previous.read_bytes() == b"the last good render"
        assert sorted(p.name for p in tiny.iterdir()) == ["full.mp4"]
    finally:
        subprocess.run(["umount", str(tiny)], check=False)


@pytest.mark.render
def test_doctor_in_a_workspace(workspace, tmp_path) -> None:
    no_key = {"ZAI_API_KEY": "", "VIDGEN_API_KEY": "", "XDG_CONFIG_HOME": str(tmp_path)}
    done = vidgen("doctor", cwd=workspace.root, env=no_key)
    assert done.returncode == 0, done.stdout
    assert "ok   browser" in done.stdout and "ok   ffmpeg" in done.stdout
    assert "warn model key" in done.stdout and "vidgen keys set zai" in done.stdout and "ZAI_API_KEY" in done.stdout


def test_doctor_without_a_browser(workspace) -> None:
    done = vidgen("doctor", cwd=workspace.root, env={"VIDGEN_BROWSER": "/nonexistent/chrome"})
    assert done.returncode == 1
    assert "FAIL browser" in done.stdout and "apt-get install -y chromium" in done.stdout


def _listening(port: int) -> set[str]:
    """The addresses listening on `port`, read from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.render
def test_studio_listens_on_loopback_only_and_a_terminated_vidgen_takes_it_along(workspace) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "studio-key-5c1e7"
    process = subprocess.Popen(
        [*VIDGEN, "studio", "--port", str(port)],
        cwd=workspace.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "ZAI_API_KEY": secret, "VIDGEN_API_KEY": secret},
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not _listening(port):
            time.sleep(0.3)
        assert _listening(port) == {"0100007F"}  # 127.0.0.1, and nothing else
        # Studio's Node processes (vidgen's own Python aside) start without the user's keys.
        studio = descendants(process.pid)
        assert studio
        for pid in studio:
            assert secret.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
        # `kill -TERM` of vidgen alone (not its group): Studio goes with it and frees the port.
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGTERM
        assert still_running(studio, within_s=10) == set()
        assert _listening(port) == set()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


# ------------------------------------------------------- --out never lands on a source file


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--still", "3", "--out", "src/videos/hello/index.tsx"], "does not end in .png"),
        (["--still", "3", "--out", "src/videos/hello/poster.png"], "inside the workspace's src/"),
        (["--out", "src/hello.mp4"], "inside the workspace's src/"),
        (["--out", "node_modules/hello.mp4"], "inside the workspace's node_modules/"),
        (["--out", ".vidgen/hello.mp4"], "inside the workspace's .vidgen/"),
        (["--out", "vidgen.toml"], "does not end in .mp4"),
        (["--out", "notes.md"], "does not end in .mp4"),
        (["--out", "out/hello.webm"], "does not end in .mp4"),
        (["--codec", "vp9", "--out", "out/hello.mp4"], "does not end in .webm"),
        (["--still", "0", "--out", "out/hello.mp4"], "does not end in .png"),
        (["--out", "out/into-src/hello.mp4"], "inside the workspace's src/"),
    ],
)
def test_out_onto_sources_is_refused_before_the_ladder(workspace, args: list[str], fragment: str) -> None:
    notes = workspace.root / "notes.md"
    notes.write_text("mine")
    link = workspace.out_dir / "into-src"
    link.symlink_to(workspace.root / "src" / "videos" / "hello")
    try:
        guarded = [workspace.video("hello").entry, workspace.root / "vidgen.toml", notes]
        before = {path: path.read_bytes() for path in guarded}
        stills = workspace.state_dir / "stills" / "hello"
        stamp = stills.stat().st_mtime_ns if stills.exists() else None
        started = time.monotonic()
        done = vidgen("render", "hello", *args, cwd=workspace.root, timeout=60)
        assert_one_line_error(done, 2, fragment)
        assert time.monotonic() - started < 30
        assert {path: path.read_bytes() for path in guarded} == before
        assert (stills.stat().st_mtime_ns if stills.exists() else None) == stamp  # the ladder never ran
        assert not list((workspace.root / "src" / "videos" / "hello").glob("*.png"))
    finally:
        link.unlink()
        notes.unlink()


@pytest.mark.render
def test_out_may_name_a_still_outside_the_sources(workspace, tmp_path: Path) -> None:
    target = tmp_path / "frame.png"
    done = vidgen("render", "hello", "--still", "0", "--out", str(target), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_command_s_line_in_the_table_is_its_own_help() -> None:
    import click

    from vidgen.cli.app import COMMANDS, load_command

    for name, (_module, _attribute, line) in COMMANDS.items():
        command = load_command(name)
        assert command.get_short_help_str(1000) == click.Command(name, help=line).get_short_help_str(1000), name


def test_the_command_list_imports_no_command() -> None:
    """`vidgen -h` draws its list from the table: no command's module, and none of the heavy libraries, is imported."""
    code = (
        "import sys; from vidgen.cli import main\n"
        "try: main(['-h'], prog_name='vidgen')\n"
        "except SystemExit: pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('vidgen', 'rich', 'httpx', 'PIL', 'jinja2')))), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "watch  " in done.stdout
    assert done.stderr.split() == ["vidgen", "vidgen.cli", "vidgen.cli.app", "vidgen.cli.printing", "vidgen.errors"]


@pytest.mark.parametrize(
    ("raised", "code", "exit_code"),
    [
        ("usage", "usage", 2),
        ("model", "model", 3),
        ("service", "timeout", 1),
    ],
)
def test_a_vidgen_error_under_json_is_one_object_with_its_code(capsys, raised: str, code: str, exit_code: int) -> None:
    import click

    from vidgen.cli.app import Boundary
    from vidgen.errors import ModelError, ServiceError, UsageError

    errors = {
        "usage": UsageError("no such video"),
        "model": ModelError("no key"),
        "service": ServiceError("slow", kind="timeout"),
    }

    @click.group(cls=Boundary)
    def group() -> None:
        pass

    @group.command()
    @click.option("--json", "as_json", is_flag=True)
    def fail(as_json: bool) -> None:
        raise errors[raised]

    assert group.main(["fail", "--json"], standalone_mode=False) == exit_code
    out = capsys.readouterr()
    assert json.loads(out.out) == {
        "status": "error",
        "error": {"message": str(errors[raised]), "code": code},
        "exit_code": exit_code,
    }
    assert out.err == f"error: {errors[raised]}\n"
