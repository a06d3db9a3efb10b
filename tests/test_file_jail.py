"""The operating system is the jail: the render service, its checker and Chromium see only the workspace.

Every wall in front of it (the imports stage, the resolver jail, the browser's flags) is tried on its
own elsewhere; here the jail is tried alone, with files those walls would never let a video name."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import vidgen
from vidgen import settings as settings_module
from vidgen.engine.protocol import RenderArgs
from vidgen.engine.sandbox import FileSandbox, file_sandbox, require_file_sandbox, service_environment, service_jail
from vidgen.engine.service import remove_stale_bundles
from vidgen.engine.session import Session
from vidgen.errors import UsageError
from vidgen.render import ladder
from vidgen.workspace import resources
from vidgen.workspace.project import Workspace

from .helpers import vidgen as run_vidgen

MARKER = f"host-secret-{secrets.token_hex(6)}"

# Reads each path given and tries each write, from inside the jail, and prints what happened.
PROBE = """
const fs = require('fs');
const [reads, writes] = JSON.parse(process.argv[1]);
const seen = {};
for (const file of reads) {
  try { seen[file] = fs.readFileSync(file, 'utf8').includes(process.argv[2]) ? 'read the secret' : 'read'; }
  catch (err) { seen[file] = err.code; }
}
for (const file of writes) {
  try { fs.writeFileSync(file, 'x'); fs.unlinkSync(file); seen[file] = 'written'; }
  catch (err) { seen[file] = err.code; }
}
const socket = require('net').connect(Number(process.argv[3]), '127.0.0.1');
socket.on('connect', () => { seen.network = 'connected'; console.log(JSON.stringify(seen)); process.exit(0); });
socket.on('error', (err) => { seen.network = err.code; console.log(JSON.stringify(seen)); process.exit(0); });
"""


@pytest.fixture
def host_secrets(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """The marker where a user keeps secrets: stored keys, $HOME, /tmp, beside the workspace and in it."""
    config = tmp_path / "config"
    (config / "vidgen").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    places = {
        "keys": config / "vidgen" / "keys.json",
        "home": Path.home() / f".vidgen-jail-test-{MARKER}",
        "tmp": tmp_path / "notes.txt",
        "dotenv": workspace.root / ".env",
        "settings": workspace.root / "vidgen.toml",
        "history": workspace.state_dir / "jail-test-history.json",
    }
    written = [path for name, path in places.items() if name != "settings"]
    for path in written:
        path.write_text(json.dumps({"key": MARKER}))
    yield places
    for path in written:
        path.unlink(missing_ok=True)


def run_jailed(workspace: Workspace, reads: list[Path], writes: list[Path], port: int) -> dict[str, str]:
    node = shutil.which("node")
    assert node
    jail = service_jail(workspace.root, resources.template_dir(), [node])
    command = file_sandbox().wrap(
        [node, "-e", PROBE, json.dumps([[str(p) for p in reads], [str(p) for p in writes]]), MARKER, str(port)], jail
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=service_environment({}))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def listening() -> Iterator[int]:
    """A TCP port on the host's loopback that accepts connections."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_bubblewrap_runs_here() -> None:
    # The suite's machine must have the jail (`make setup` and .ci/run install bubblewrap): a missing
    # one fails here, once and plainly, rather than skipping the tests below.
    found = file_sandbox()
    assert found.active, found.reason


@pytest.mark.render
def test_the_jail_holds_the_workspace_code_and_nothing_of_the_host(
    workspace: Workspace, host_secrets: dict[str, Path], listening: int
) -> None:
    readable = [workspace.root / "src" / "Root.tsx", workspace.root / "node_modules" / "remotion" / "package.json"]
    hidden = [*host_secrets.values(), Path("/etc/shadow"), Path(vidgen.__file__), Path("/root/.bash_history")]
    writable = [workspace.state_dir / "stills" / "probe", workspace.state_dir / "staging" / "probe"]
    read_only = [workspace.root / "src" / "probe", workspace.root / "node_modules" / "probe"]
    # Elsewhere a write lands in the jail's own tmpfs, which goes with it: never on the host.
    elsewhere = [workspace.root / "probe", Path.home() / "probe", host_secrets["keys"].parent / "probe"]
    seen = run_jailed(workspace, [*readable, *hidden], [*writable, *read_only, *elsewhere], listening)
    assert {str(p): seen[str(p)] for p in readable} == {str(p): "read" for p in readable}
    assert {str(p): seen[str(p)] for p in hidden} == {str(p): "ENOENT" for p in hidden}
    assert {str(p): seen[str(p)] for p in writable} == {str(p): "written" for p in writable}
    assert {str(p): seen[str(p)] for p in read_only} == {str(p): "EROFS" for p in read_only}
    assert not any(p.exists() for p in [*read_only, *elsewhere])
    # The host's loopback is another network: nothing of it answers there.
    assert seen["network"] in {"ECONNREFUSED", "ENETUNREACH"}, seen


def data_module_importing(path: Path) -> str:
    """The issue's attack: a data: module (never resolved as a file) that re-exports a host file, shown and thrown."""
    return f"""\
import React from 'react';
import {{AbsoluteFill}} from 'remotion';
// @ts-expect-error: a data: module has no types (the typecheck would stop the attack first without this)
import stolen from "data:text/javascript,import s from '{path}'; export default s";

export const config = {{durationInFrames: 30, fps: 30, width: 640, height: 360}};

const Leak: React.FC = () => {{
  const text = JSON.stringify(stolen);
  if (text.length > 2) throw new Error(`stolen: ${{text}}`);
  return <AbsoluteFill style={{{{backgroundColor: '#123', color: 'white', fontSize: 20}}}}>{{text}}</AbsoluteFill>;
}};

export default Leak;
"""


@pytest.mark.render
def test_a_data_module_importing_the_stored_keys_carries_no_byte_of_them(
    session: Session, make_video, workspace: Workspace, host_secrets: dict[str, Path]
) -> None:
    video = make_video("jail-data-keys", {"index.tsx": data_module_importing(host_secrets["keys"])})
    checked = ladder.run(session, video)
    assert checked.error is not None, "a video that imports a host file must not pass"
    assert MARKER not in json.dumps(checked.error.to_dict(), default=str)
    for folder in (workspace.state_dir / "stills", workspace.state_dir / "bundle"):
        for file in folder.rglob("*"):
            assert not file.is_file() or MARKER.encode() not in file.read_bytes(), file


def test_without_bubblewrap_rendering_is_refused_unless_allowed() -> None:
    none = FileSandbox("", "bubblewrap (bwrap) is not installed")
    with pytest.raises(UsageError) as refused:
        require_file_sandbox(False, none)
    message = str(refused.value)
    assert "\n" not in message and "apt-get install -y bubblewrap" in message and "allow_unsandboxed = true" in message
    assert require_file_sandbox(True, none) is none
    assert none.describe() == "none"


def test_allow_unsandboxed_is_a_documented_setting_off_by_default(tmp_path: Path) -> None:
    assert "allow_unsandboxed = false" in settings_module.DEFAULT_TOML
    assert settings_module.RenderSettings().allow_unsandboxed is False
    (tmp_path / "vidgen.toml").write_text("[render]\nallow_unsandboxed = true\n")
    assert settings_module.load(tmp_path).render.allow_unsandboxed is True


@pytest.mark.render
def test_doctor_shows_the_file_sandbox(workspace: Workspace) -> None:
    done = run_vidgen("doctor", cwd=workspace.root)
    line = next(line for line in done.stdout.splitlines() if "file sandbox" in line)
    assert line.startswith("ok") and "bubblewrap" in line, done.stdout


def test_builds_of_services_whose_vidgen_is_gone_are_removed(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    bundles = workspace.state_dir / "bundle"
    gone = subprocess.Popen(["true"])
    gone.wait()
    for name in (f"{os.getpid()}-aaaa", f"{gone.pid}-bbbb", "1234567-cccc", "not-a-pid"):
        (bundles / name / "1").mkdir(parents=True)
    remove_stale_bundles(workspace)
    assert sorted(p.name for p in bundles.iterdir()) == [f"{os.getpid()}-aaaa"]


def test_the_jail_is_in_the_daemons_identity() -> None:
    from vidgen.engine import client as daemon_client

    assert "allow_unsandboxed" in daemon_client._STARTUP_SETTINGS


@pytest.mark.render
def test_an_output_outside_the_jails_folders_is_refused_not_lost(session: Session, tmp_path: Path) -> None:
    # Written there, it would land in the jail's own tmpfs and vanish: a clear error instead.
    with pytest.raises(UsageError) as refused:
        session.service.render(
            RenderArgs(name="hello", output=str(tmp_path / "lost.mp4"), codec="h264", timeout_ms=8000), timeout_s=60
        )
    message = str(refused.value)
    assert "\n" not in message and "writes only inside" in message and str(session.workspace.state_dir / "stills") in message


def test_the_offline_voice_is_jailed_and_still_speaks(tmp_path: Path, host_file: Path) -> None:
    from vidgen.engine.sandbox import confined
    from vidgen.sound.voice import Espeak

    # What the voice's jail holds: the folder it writes, and nothing of the host.
    done = subprocess.run(confined(["cat", str(host_file)], [tmp_path]), capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and MARKER not in done.stdout and "No such file" in done.stderr
    assert confined(["espeak-ng"], [tmp_path])[0] == file_sandbox().bwrap
    Espeak().synthesize("Read me a host file.", tmp_path / "line.wav")
    assert (tmp_path / "line.wav").stat().st_size > 10_000


@pytest.fixture
def host_file() -> Iterator[Path]:
    """A file outside /tmp and $HOME, where the jail's tmpfs folders would hide it anyway."""
    folder = Path("/var/lib") / f"vidgen-jail-test-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    (folder / "secret.txt").write_text(MARKER)
    yield folder / "secret.txt"
    shutil.rmtree(folder)


HOSTILE_TYPE_IMPORT = """\
import React from 'react';
import {{AbsoluteFill}} from 'remotion';
import type Stolen from '{path}';

export const config = {{durationInFrames: 30, fps: 30, width: 640, height: 360}};
const shown: Stolen | null = null;

const Leak: React.FC = () => <AbsoluteFill style={{{{backgroundColor: '#123'}}}}>{{String(shown)}}</AbsoluteFill>;

export default Leak;
"""


@pytest.mark.render
@pytest.mark.parametrize("attack", ["data-module", "type-import"])
def test_the_stored_key_never_reaches_the_model_the_json_or_the_transcript(
    workspace: Workspace, fresh, tmp_path: Path, attack: str
) -> None:
    from vidgen.model.scripted import Scripted, ScriptedModel
    from vidgen.workspace import transcript

    from .helpers import MOVING, component, model_flags, reply

    config = tmp_path / "config"
    (config / "vidgen").mkdir(parents=True, mode=0o700)
    keys = config / "vidgen" / "keys.json"
    keys.write_text(json.dumps({"zai": MARKER}))
    keys.chmod(0o600)
    video = fresh(f"jail-key-{attack}")
    hostile = data_module_importing(keys) if attack == "data-module" else HOSTILE_TYPE_IMPORT.format(path=keys)
    with ScriptedModel([Scripted(reply(hostile)), Scripted(reply(component(MOVING)))]) as server:
        done = run_vidgen(
            "new",
            "a square",
            "--name",
            video.name,
            "--max-repairs",
            "1",
            "--json",
            *model_flags(server),
            cwd=workspace.root,
            env={"XDG_CONFIG_HOME": str(config)},
        )
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 2, "the hostile video fails, and its repair turn is sent"
    assert MARKER not in json.dumps([r["body"] for r in server.requests])
    assert MARKER not in done.stdout and MARKER not in done.stderr
    assert MARKER not in json.dumps(transcript.read(video))
    for path in [workspace.state_dir / "state.json", *workspace.state_dir.rglob(f"*{video.name}*")]:
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path
