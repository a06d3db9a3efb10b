"""The user's own model settings beside the keys: endpoints named with their key, and the default model."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from vidgen.model.scripted import Scripted, ScriptedModel

from .helpers import MOVING, VIDGEN, assert_one_line_error, component

SECRET = "sk-proxy-0123456789"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private config folder and no key from the environment."""
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "VIDGEN_API_KEY": "",
        "ZAI_API_KEY": "",
        "OPENAI_API_KEY": "",
        "VIDGEN_MODEL": "",
        "VIDGEN_PROVIDER": "",
        "VIDGEN_BASE_URL": "",
    }


def run(env: dict[str, str], *args: str, cwd: Path, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [*VIDGEN, *args], input=stdin, capture_output=True, text=True, timeout=timeout, cwd=cwd, env={**os.environ, **env}
    )
    assert SECRET not in done.stdout + done.stderr  # a stored key is never printed, on any path
    return done


def folder(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "vidgen"


def effective(env: dict[str, str], *args: str, cwd: Path) -> dict[str, str]:
    """The model settings `vidgen config` says a command would use, key -> value."""
    done = run(env, "config", "--json", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return {row["key"]: row["value"] for row in json.loads(done.stdout)["settings"] if row["key"].startswith("model.")}


# ---------------------------------------------------------------------------- a key for your own endpoint


def test_a_named_endpoint_s_key_goes_to_its_url_and_nowhere_else(env: dict[str, str], tmp_path: Path) -> None:
    with ScriptedModel([], models=["some-model"]) as proxy, ScriptedModel([], models=["other"]) as elsewhere:
        done = run(env, "keys", "set", "myproxy", "--base-url", proxy.base_url + "/", cwd=tmp_path, stdin=SECRET + "\n")
        assert done.returncode == 0, done.stderr
        for name in ("keys.json", "models.json"):
            assert stat.S_IMODE((folder(env) / name).stat().st_mode) == 0o600
        assert json.loads((folder(env) / "models.json").read_text())["aliases"] == {"myproxy": proxy.base_url}
        listed = run(env, "keys", "list", "--json", cwd=tmp_path)
        assert json.loads(listed.stdout)["endpoints"] == {"myproxy": proxy.base_url}

        # By name, and by a --base-url that is the named one's URL: the stored key is sent.
        assert run(env, "models", "--provider", "myproxy", cwd=tmp_path).stdout.split() == ["some-model"]
        assert run(env, "models", "--base-url", proxy.base_url, cwd=tmp_path).returncode == 0
        assert [r["headers"].get("Authorization") for r in proxy.requests] == [f"Bearer {SECRET}"] * 2
        # Another URL never gets it.
        assert run(env, "models", "--provider", "ollama", "--base-url", elsewhere.base_url, cwd=tmp_path).returncode == 0
        assert "Authorization" not in elsewhere.requests[0]["headers"]

    # `--model NAME/MODEL` picks the endpoint; OpenRouter's `vendor/model` ids are untouched.
    routed = effective(env, "--model", "myproxy/some-model", cwd=tmp_path)
    assert (routed["model.provider"], routed["model.model"]) == ("myproxy", "some-model")
    vendor = effective(env, "--provider", "openrouter", "--model", "myproxy/x", cwd=tmp_path)
    assert (vendor["model.provider"], vendor["model.model"]) == ("openrouter", "myproxy/x")
    assert effective(env, "--model", "z-ai/glm-5.2", cwd=tmp_path)["model.provider"] == "zai"

    done = run(env, "keys", "remove", "myproxy", cwd=tmp_path)
    assert done.returncode == 0 and json.loads((folder(env) / "models.json").read_text())["aliases"] == {}
    assert json.loads((folder(env) / "keys.json").read_text()) == {}


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["keys", "set", "zai", "--base-url", "https://proxy.example/v1"], 2, "choose another name for your endpoint"),
        (["keys", "set", "myproxy", "--base-url", "ftp://proxy.example/v1"], 2, "is not an http(s) URL"),
        (["keys", "set", "myproxy", "--base-url", "proxy.example"], 2, "is not an http(s) URL"),
        (["keys", "set", "My Proxy", "--base-url", "https://proxy.example/v1"], 2, "lowercase letters"),
        (["keys", "set", "myproxy", "--base-url", "https://u:p@proxy.example/v1"], 2, "without them"),
        (["keys", "set", "myproxy"], 2, "vidgen keys set myproxy --base-url URL"),
        (["models", "--provider", "myproxy"], 2, "vidgen keys set myproxy --base-url URL"),
    ],
)
def test_a_bad_endpoint_is_one_line_saying_what_to_do(
    env: dict[str, str], tmp_path: Path, args: list[str], code: int, fragment: str
) -> None:
    done = run(env, *args, cwd=tmp_path, stdin=SECRET + "\n")
    assert_one_line_error(done, code, fragment)
    assert not (folder(env) / "keys.json").exists() and not (folder(env) / "models.json").exists()
    if args[0] == "models":  # `keys set` has no --json: a key is never an output
        payload = json.loads(run(env, *args, "--json", cwd=tmp_path).stdout)
        assert payload["error"]["code"] == "usage" and fragment in payload["error"]["message"]


def test_a_named_endpoint_without_a_model_says_how_to_name_one(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "keys", "set", "myproxy", "--base-url", "http://127.0.0.1:9/v1", cwd=tmp_path, stdin=SECRET)
    done = run(env, "models", "--provider", "myproxy", cwd=tmp_path)  # the list needs no model...
    assert_one_line_error(done, 3, "cannot reach http://127.0.0.1:9/v1")
    (folder(env) / "keys.json").write_text("{}")
    os.chmod(folder(env) / "keys.json", 0o600)
    done = run(env, "models", "--provider", "myproxy", cwd=tmp_path)  # ...but a key: it was removed
    assert_one_line_error(done, 3, "vidgen keys set myproxy --base-url http://127.0.0.1:9/v1")


def test_new_writes_a_video_through_a_named_endpoint(env: dict[str, str], workspace) -> None:
    source = component(MOVING)
    with ScriptedModel([Scripted(f"The video.\n\n```tsx index.tsx\n{source}```\n")]) as proxy:
        run(env, "keys", "set", "myproxy", "--base-url", proxy.base_url, cwd=workspace.root, stdin=SECRET)
        name = "through-proxy"
        done = run(
            env,
            "new",
            "a moving square",
            "--name",
            name,
            "--model",
            "myproxy/some-model",
            "--no-render",
            "--no-critique",
            cwd=workspace.root,
            timeout=300,
        )
        try:
            assert done.returncode == 0, done.stderr
            assert proxy.requests[0]["body"]["model"] == "some-model"
            assert proxy.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"
            assert workspace.video(name).entry.read_text() == source
            # The turn is in `vidgen logs` with the model it asked.
            logged = json.loads(run(env, "logs", "--json", name, cwd=workspace.root).stdout)["entries"][0]
            assert (logged["video"], logged["model"], logged["kind"]) == (name, "some-model", "new")
        finally:
            shutil.rmtree(workspace.video(name).folder, ignore_errors=True)


# ---------------------------------------------------------------------------- the user's default model


def test_the_default_model_is_the_user_s_and_comes_after_flag_environment_and_toml(env: dict[str, str], tmp_path: Path) -> None:
    from vidgen.workspace import project as workspace_module

    outside = tmp_path / "outside"
    outside.mkdir()
    shown = run(env, "models", "default", "--json", cwd=outside)
    assert json.loads(shown.stdout)["model"] == "glm-5.2" and json.loads(shown.stdout)["source"] == "built-in"

    assert run(env, "models", "default", "glm-4.6", cwd=outside).returncode == 0
    assert run(env, "models", "default", cwd=outside).stdout.strip() == "glm-4.6"
    assert json.loads((folder(env) / "models.json").read_text())["default"] == {"provider": "zai", "model": "glm-4.6"}
    ws = workspace_module.create(tmp_path / "ws", install=False)
    assert not list(ws.root.rglob("models.json"))  # kept beside the keys, never in a workspace

    assert effective(env, cwd=outside)["model.model"] == "glm-4.6"
    assert effective(env, "--model", "glm-9", cwd=outside)["model.model"] == "glm-9"
    assert effective({**env, "VIDGEN_MODEL": "glm-env"}, cwd=outside)["model.model"] == "glm-env"
    toml = ws.root / "vidgen.toml"
    toml.write_text(toml.read_text().replace('model = ""', 'model = "glm-toml"', 1))
    assert effective(env, cwd=ws.root)["model.model"] == "glm-toml"
    # A default for zai is never sent to another provider.
    other = effective(env, "--provider", "ollama", cwd=outside)
    assert (other["model.provider"], other["model.model"]) == ("ollama", "")

    # A default for another provider brings its provider along when none was chosen.
    assert run(env, "models", "default", "gpt-5.1", "--provider", "openai", cwd=outside).returncode == 0
    chosen = effective(env, cwd=outside)
    assert (chosen["model.provider"], chosen["model.model"]) == ("openai", "gpt-5.1")
    assert effective(env, "--provider", "zai", cwd=outside)["model.model"] == ""

    assert run(env, "models", "default", "--clear", cwd=outside).returncode == 0
    assert effective(env, cwd=outside)["model.model"] == ""
    assert stat.S_IMODE((folder(env) / "models.json").stat().st_mode) == 0o600


def test_a_default_on_a_named_endpoint_is_what_a_command_asks_it_for(env: dict[str, str], tmp_path: Path) -> None:
    with ScriptedModel([], models=["small", "some-model"]) as proxy:
        run(env, "keys", "set", "myproxy", "--base-url", proxy.base_url, cwd=tmp_path, stdin=SECRET)
        assert run(env, "models", "default", "myproxy/some-model", cwd=tmp_path).returncode == 0
        listed = json.loads(run(env, "models", "--json", cwd=tmp_path).stdout)
        assert listed["provider"] == "myproxy"
        assert [m["id"] for m in listed["models"] if m["default"]] == ["some-model"]
        assert proxy.requests[-1]["headers"]["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["models", "default", "glm-4.6", "--clear"], "--clear takes no MODEL"),
        (["models", "default", "glm-4.6", "--provider", "nope"], "unknown provider 'nope'"),
        (["models", "default", "two words"], "is not a model name"),
        (["models", "default", "--provider", "openai"], "--provider needs a MODEL"),
    ],
)
def test_a_bad_default_is_one_line_and_changes_nothing(
    env: dict[str, str], tmp_path: Path, args: list[str], fragment: str
) -> None:
    assert_one_line_error(run(env, *args, cwd=tmp_path), 2, fragment)
    assert not (folder(env) / "models.json").exists()
    payload = json.loads(run(env, *args, "--json", cwd=tmp_path).stdout)
    assert payload["error"]["code"] == "usage" and fragment in payload["error"]["message"]


def test_an_endpoints_file_others_can_change_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    """Its URLs say where a stored key goes: one another user could edit could send the key to their server."""
    run(env, "keys", "set", "myproxy", "--base-url", "http://127.0.0.1:9/v1", cwd=tmp_path, stdin=SECRET)
    os.chmod(folder(env) / "models.json", 0o666)
    assert_one_line_error(run(env, "models", "--provider", "myproxy", cwd=tmp_path), 3, "chmod 600")
    os.chmod(folder(env) / "models.json", 0o600)
    moved = folder(env) / "elsewhere.json"
    (folder(env) / "models.json").rename(moved)
    (folder(env) / "models.json").symlink_to(moved)
    assert_one_line_error(run(env, "models", "--provider", "myproxy", cwd=tmp_path), 3, "symbolic link")
