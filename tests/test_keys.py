"""`vidgen keys`: stored keys outside any workspace, and every way the keys file can be wrong."""

from __future__ import annotations

import json
import os
import select
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from vidgen.errors import KeyProblem
from vidgen.model import keys

from .helpers import VIDGEN, assert_one_line_error, vidgen

SECRET = "sk-stored-0123456789"


@pytest.fixture
def config(tmp_path: Path) -> dict[str, str]:
    """An environment whose config folder is a fresh temp folder and which has no key in it."""
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "VIDGEN_API_KEY": "",
        "ZAI_API_KEY": "",
        "OPENAI_API_KEY": "",
    }


def keys_file(config: dict[str, str]) -> Path:
    return Path(config["XDG_CONFIG_HOME"]) / "vidgen" / "keys.json"


def run(config: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VIDGEN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(config["XDG_CONFIG_HOME"]).parent,
        env={**os.environ, **config},
    )


def test_set_list_remove_keep_the_key_private(config: dict[str, str]) -> None:
    done = run(config, "keys", "set", "openai", stdin=SECRET + "\n")
    assert done.returncode == 0, done.stderr
    path = keys_file(config)
    assert json.loads(path.read_text()) == {"openai": SECRET}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob(".keys-*"))  # the atomic write left no temporary file
    listed = run(config, "keys", "list")
    assert listed.returncode == 0 and listed.stdout.split() == ["openai"]
    as_json = json.loads(run(config, "keys", "list", "--json").stdout)
    assert as_json["keys"] == ["openai"] and as_json["path"] == str(path)
    # zai-coding is the same account as zai: its key is stored once, under zai.
    assert run(config, "keys", "set", "zai-coding", stdin="zai-key").returncode == 0
    assert run(config, "keys", "list").stdout.split() == ["openai", "zai"]
    for done in (listed, run(config, "keys", "list", "--json"), run(config, "keys", "path")):
        assert SECRET not in done.stdout + done.stderr
    assert run(config, "keys", "remove", "openai").returncode == 0
    assert json.loads(path.read_text()) == {"zai": "zai-key"}
    assert_one_line_error(run(config, "keys", "remove", "openai"), 2, "no key is stored for openai")


def test_bad_names_and_bad_keys_are_refused_and_nothing_is_stored(config: dict[str, str]) -> None:
    assert_one_line_error(run(config, "keys", "set", "acme", stdin="k"), 2, "unknown provider 'acme'")
    assert_one_line_error(run(config, "keys", "set", "ollama", stdin="k"), 2, "needs no key")
    assert_one_line_error(run(config, "keys", "set", "zai", stdin="sk-one\nsk-two\n"), 3, "line break")
    assert_one_line_error(run(config, "keys", "set", "zai", stdin="sk one"), 3, "space or control character")
    assert_one_line_error(run(config, "keys", "set", "zai", stdin=""), 3, "the key is empty")
    assert_one_line_error(run(config, "keys", "set", "zai", stdin="sk-\x1b[31m"), 3, "control character")
    assert not keys_file(config).exists()


def test_a_missing_key_is_exit_3_and_names_the_command(config: dict[str, str]) -> None:
    done = run(config, "models", "--provider", "openai")
    assert_one_line_error(done, 3, "no API key for openai", "vidgen keys set openai", "OPENAI_API_KEY")


def write(config: dict[str, str], text: str, mode: int = 0o600) -> Path:
    path = keys_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"zai": "sk-MARKER" ', "is not valid JSON"),
        ('{"zai": 5, "o": "sk-MARKER"}', "not an object of names to keys"),
        ('["sk-MARKER"]', "not an object of names to keys"),
    ],
)
def test_a_malformed_keys_file_is_refused_never_quoted_and_kept(config: dict[str, str], text: str, fragment: str) -> None:
    path = write(config, text)
    for args, stdin in ((("keys", "list"), ""), (("keys", "set", "zai"), "new-key"), (("models", "--provider", "zai"), "")):
        done = run(config, *args, stdin=stdin)
        assert_one_line_error(done, 3, fragment, str(path))
        assert "MARKER" not in done.stderr + done.stdout
    assert path.read_text() == text  # nothing the user wrote is lost


def test_a_keys_file_readable_by_others_is_refused_until_set_rewrites_it(config: dict[str, str]) -> None:
    path = write(config, json.dumps({"zai": SECRET}), mode=0o644)
    done = run(config, "keys", "list")
    assert_one_line_error(done, 3, "can be read by other users", f"chmod 600 {path}")
    assert_one_line_error(run(config, "models", "--provider", "zai"), 3, "can be read by other users")
    # `set` replaces the file with a private one, keeping the keys that were there.
    assert run(config, "keys", "set", "openai", stdin="o-key").returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"openai": "o-key", "zai": SECRET}


def test_a_keys_file_that_is_a_link_is_never_followed(config: dict[str, str], tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"zai": SECRET}))
    elsewhere.chmod(0o600)
    path = keys_file(config)
    path.parent.mkdir(parents=True)
    path.symlink_to(elsewhere)
    for args, stdin in ((("keys", "list"), ""), (("keys", "set", "zai"), "new-key"), (("keys", "remove", "zai"), "")):
        assert_one_line_error(run(config, *args, stdin=stdin), 3, "is a symbolic link")
    assert json.loads(elsewhere.read_text()) == {"zai": SECRET} and path.is_symlink()


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_keys_file_that_is_not_a_regular_file_is_refused(config: dict[str, str], kind: str) -> None:
    path = keys_file(config)
    path.parent.mkdir(parents=True)
    path.mkdir() if kind == "folder" else os.mkfifo(path)
    assert_one_line_error(run(config, "keys", "list"), 3, str(path))


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_set_makes_a_keys_folder_others_can_write_to_private(config: dict[str, str], mode: int) -> None:
    path = write(config, json.dumps({"zai": SECRET}))
    path.parent.chmod(mode)
    assert run(config, "keys", "set", "openai", stdin="o-key").returncode == 0
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"openai": "o-key", "zai": SECRET}


def test_set_refuses_a_keys_folder_it_cannot_make_private(config: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process: root may chmod anything, so the refusal is reached by a chmod that fails."""
    path = write(config, json.dumps({"zai": SECRET}))
    path.parent.chmod(0o777)
    monkeypatch.setenv("XDG_CONFIG_HOME", config["XDG_CONFIG_HOME"])

    def refused(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refused)
    with pytest.raises(KeyProblem) as caught:
        keys.store("openai", "o-key")
    assert str(caught.value) == (
        f"the keys folder {path.parent} can be written by other users (mode 777) and could not be made private "
        f"(Operation not permitted): run `chmod 700 {path.parent}`, then set the key again"
    )
    assert json.loads(path.read_text()) == {"zai": SECRET} and not list(path.parent.glob(".keys-*"))


OTHER_UID = 65534  # nobody


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_keys_file_owned_by_another_user_is_refused(config: dict[str, str]) -> None:
    path = write(config, json.dumps({"zai": SECRET}))
    os.chown(path, OTHER_UID, OTHER_UID)
    for args, stdin in ((("keys", "list"), ""), (("keys", "set", "openai"), "o-key"), (("keys", "remove", "zai"), "")):
        done = run(config, *args, stdin=stdin)
        assert_one_line_error(done, 3, f"{path} belongs to another user (uid {OTHER_UID})", "sudo chown")
        assert SECRET not in done.stdout + done.stderr
    assert_one_line_error(run(config, "models", "--provider", "zai"), 3, "belongs to another user")
    assert json.loads(path.read_text()) == {"zai": SECRET} and os.stat(path).st_uid == OTHER_UID


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_keys_folder_owned_by_another_user_is_refused(config: dict[str, str]) -> None:
    folder = keys_file(config).parent
    folder.mkdir(parents=True)
    folder.chmod(0o700)
    os.chown(folder, OTHER_UID, OTHER_UID)
    done = run(config, "keys", "set", "openai", stdin="o-key")
    assert_one_line_error(done, 3, f"the keys folder {folder} belongs to another user (uid {OTHER_UID})", "XDG_CONFIG_HOME")
    assert list(folder.iterdir()) == [] and stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_keys_never_live_in_a_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "vidgen.toml").write_text("")
    config = {"XDG_CONFIG_HOME": str(workspace / ".config"), "VIDGEN_API_KEY": ""}
    done = run(config, "keys", "set", "zai", stdin=SECRET)
    assert_one_line_error(done, 3, "inside the workspace", "XDG_CONFIG_HOME")
    assert not (workspace / ".config").exists()


def test_the_default_folder_and_a_relative_xdg_config_home(tmp_path: Path) -> None:
    for xdg in ("", "relative/config"):
        env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": xdg}
        done = vidgen("keys", "path", cwd=tmp_path, env=env)
        assert done.stdout.strip() == str(tmp_path / ".config" / "vidgen" / "keys.json")


def _answer_the_prompt(config: dict[str, str], answer: bytes) -> tuple[int, bytes]:
    """`vidgen keys set openai` on a real pseudo-terminal (its controlling tty), `answer` typed at its
    prompt: its exit code and everything the terminal showed."""
    pid, terminal = os.forkpty()
    if pid == 0:  # the child: vidgen on the terminal, nothing else, Ctrl-C at its default
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.chdir(Path(config["XDG_CONFIG_HOME"]).parent)
        os.execve(VIDGEN[0], [*VIDGEN, "keys", "set", "openai"], {**os.environ, **config})
    seen = b""
    typed = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(terminal, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not typed and b"Key for openai" in seen:
            os.write(terminal, answer)
            typed = True
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert typed, seen
    return os.waitstatus_to_exitcode(status), seen


def test_set_in_a_terminal_prompts_without_echoing_the_key(config: dict[str, str]) -> None:
    code, seen = _answer_the_prompt(config, SECRET.encode() + b"\n")
    assert code == 0, seen
    assert SECRET.encode() not in seen and b"stored the key for openai" in seen
    assert json.loads(keys_file(config).read_text()) == {"openai": SECRET}


def test_ctrl_c_at_the_prompt_is_an_interrupt(config: dict[str, str]) -> None:
    code, seen = _answer_the_prompt(config, b"sk-half\x03")  # Ctrl-C, as the terminal sends it
    assert code == 130 and b"interrupted" in seen and b"Traceback" not in seen, seen
    assert not keys_file(config).exists()


def test_list_takes_the_workspace_option_and_answers_one_object(config: dict[str, str], tmp_path: Path) -> None:
    done = run(config, "keys", "list", "--workspace", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "status": "ok",
        "keys": [],
        "path": str(keys_file(config)),
        "endpoints": {},
        "exit_code": 0,
    }
