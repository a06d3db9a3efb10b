"""Providers: plugins through entry points, `vidgen models`, and the model flags every driver shares."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vidgen import settings as settings_module
from vidgen.cli.flags import ModelFlags
from vidgen.errors import UsageError
from vidgen.model.scripted import Scripted, ScriptedModel

from .helpers import MOVING, VIDGEN, assert_one_line_error, component

PLUGIN = """
import os

from vidgen.model.providers import Provider


def register():
    return [Provider("acme", os.environ["ACME_URL"], "acme-large", "ACME_API_KEY")]


def clash():
    return Provider("zai", "http://127.0.0.1:9/v1", "not-glm")


def broken():
    raise RuntimeError("the plugin is broken")
"""

ENTRY_POINTS = """
[vidgen.providers]
acme = vidgen_acme:register
clash = vidgen_acme:clash
broken = vidgen_acme:broken
"""


@pytest.fixture
def plugin(tmp_path: Path) -> dict[str, str]:
    """An installed plugin (a module and its dist-info on PYTHONPATH) and a private config folder."""
    site = tmp_path / "site"
    info = site / "vidgen_acme-0.1.dist-info"
    info.mkdir(parents=True)
    (site / "vidgen_acme.py").write_text(PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vidgen-acme\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "XDG_CONFIG_HOME": str(tmp_path / "config"), "VIDGEN_API_KEY": "", "ACME_API_KEY": ""}


def run(env: dict[str, str], *args: str, cwd: Path, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VIDGEN, *args], input=stdin, capture_output=True, text=True, timeout=timeout, cwd=cwd, env={**os.environ, **env}
    )


def test_a_plugin_provider_lists_its_models_with_its_own_key(plugin: dict[str, str], tmp_path: Path) -> None:
    with ScriptedModel([], models=["acme-small", "acme-large"]) as server:
        env = {**plugin, "ACME_URL": server.base_url}
        done = run({**env, "ACME_API_KEY": "env-key"}, "models", "--provider", "acme", "--json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        listed = json.loads(done.stdout)
        assert listed["provider"] == "acme" and listed["base_url"] == server.base_url
        assert [(m["id"], m["default"]) for m in listed["models"]] == [("acme-small", False), ("acme-large", True)]
        assert server.requests[-1]["headers"]["Authorization"] == "Bearer env-key"
        assert server.requests[-1]["path"] == "/v1/models"
        # A stored key is used when the environment has none; the environment's wins over it.
        assert run(env, "keys", "set", "acme", cwd=tmp_path, stdin="stored-key").returncode == 0
        done = run(env, "models", "--provider", "acme", cwd=tmp_path)
        assert done.stdout.split() == ["acme-small", "acme-large"], done.stderr
        assert server.requests[-1]["headers"]["Authorization"] == "Bearer stored-key"
        run({**env, "ACME_API_KEY": "env-key"}, "models", "--provider", "acme", cwd=tmp_path)
        assert server.requests[-1]["headers"]["Authorization"] == "Bearer env-key"
        assert "stored-key" not in done.stdout + done.stderr
        with ScriptedModel([]) as elsewhere:
            # The plugin's key never goes to another URL.
            done = run(env, "models", "--provider", "acme", "--base-url", elsewhere.base_url, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            assert "Authorization" not in elsewhere.requests[-1]["headers"]


def test_broken_and_clashing_plugins_are_reported_where_they_matter(plugin: dict[str, str], tmp_path: Path) -> None:
    env = {**plugin, "ACME_URL": "http://127.0.0.1:9/v1"}
    done = run(env, "models", "--provider", "broken", cwd=tmp_path)
    assert_one_line_error(done, 2, "unknown provider 'broken'", "acme", "plugin broken", "RuntimeError: the plugin is broken")
    assert "plugin clash" in done.stderr and "already defined" in done.stderr
    # The built-in zai is not replaced by the plugin's: its own URL and key variable still hold.
    done = run({**env, "ZAI_API_KEY": ""}, "models", "--provider", "zai", cwd=tmp_path)
    assert_one_line_error(done, 3, "no API key for zai", "ZAI_API_KEY")


def test_a_plugin_provider_writes_a_video(plugin: dict[str, str], workspace) -> None:
    source = component(MOVING)
    with ScriptedModel([Scripted(f"The video.\n\n```tsx index.tsx\n{source}```\n")]) as server:
        env = {**plugin, "ACME_URL": server.base_url, "ACME_API_KEY": "acme-key"}
        name = "plugin-made"
        done = run(
            env, "new", "a moving square", "--name", name, "--provider", "acme", "--no-render", cwd=workspace.root, timeout=300
        )
        try:
            assert done.returncode == 0, done.stderr
            body = server.requests[0]["body"]
            assert body["model"] == "acme-large" and "thinking" not in body
            assert server.requests[0]["headers"]["Authorization"] == "Bearer acme-key"
            assert workspace.video(name).entry.read_text() == source
        finally:
            shutil.rmtree(workspace.video(name).folder, ignore_errors=True)


# ---------------------------------------------------------------------------- vidgen models


def test_models_lists_the_endpoint_s_models(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "VIDGEN_API_KEY": ""}
    with ScriptedModel([], models=["llama3.2", "qwen2.5-coder:7b"]) as server:
        done = run(env, "models", "--provider", "ollama", "--base-url", server.base_url, cwd=tmp_path)
        assert done.returncode == 0 and done.stdout.split() == ["llama3.2", "qwen2.5-coder:7b"], done.stderr
        assert "vidgen uses llama3.2" in done.stderr


@pytest.mark.parametrize(("status", "fragment"), [(401, "refused the API key"), (404, "has no model list")])
def test_models_errors_are_exit_3(tmp_path: Path, status: int, fragment: str) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "VIDGEN_API_KEY": "k"}
    with ScriptedModel([], models_status=status) as server:
        done = run(env, "models", "--provider", "ollama", "--base-url", server.base_url, "--json", cwd=tmp_path)
    assert_one_line_error(done, 3, fragment)


def test_models_from_an_endpoint_that_is_not_there(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "VIDGEN_API_KEY": ""}
    done = run(env, "models", "--provider", "ollama", "--base-url", "http://127.0.0.1:9/v1", cwd=tmp_path)
    assert_one_line_error(done, 3, "cannot reach http://127.0.0.1:9/v1")


# ---------------------------------------------------------------------------- the shared flags


def test_a_configured_model_does_not_follow_provider_to_another() -> None:
    pinned = settings_module.Settings(model=settings_module.ModelSettings(provider="zai", model="glm-4.6"))
    assert ModelFlags(provider="ollama").apply(pinned).model.model == ""  # so: ollama's default, llama3.2
    assert ModelFlags(provider="ollama", model="qwen3").apply(pinned).model.model == "qwen3"
    assert ModelFlags(provider="zai").apply(pinned).model.model == "glm-4.6"
    assert ModelFlags().apply(pinned).model == pinned.model
    with pytest.raises(UsageError, match="unknown provider 'acme'"):
        ModelFlags(provider="acme").apply(pinned)


MODEL_FLAGS = ["--provider", "--model", "--base-url", "--thinking", "--no-thinking", "--effort", "--critique", "--no-critique"]


def test_new_edit_batch_and_watch_take_the_same_model_flags(workspace, make_video, tmp_path: Path) -> None:
    make_video("flags-target", {"index.tsx": component(MOVING)})
    items = tmp_path / "items.txt"
    items.write_text("a moving square\n")
    commands = {
        "new": ["new", "an idea"],
        "edit": ["edit", "flags-target", "bigger"],
        "batch": ["batch", str(items)],
        "watch": ["watch", "flags-target"],
    }
    env = {"XDG_CONFIG_HOME": str(tmp_path), "VIDGEN_API_KEY": ""}
    for name, args in commands.items():
        shown = run(env, *args, "--help", cwd=workspace.root)
        for flag in MODEL_FLAGS:
            assert f" {flag}" in shown.stdout, (name, flag)
        # The provider is checked before any work: no model call, no render, no watching.
        done = run(env, *args, "--provider", "nosuch", "--thinking", "--effort", "high", cwd=workspace.root)
        assert_one_line_error(done, 2, "unknown provider 'nosuch'")
        done = run(env, *args, "--provider", "ollama", "--critique", cwd=workspace.root)
        assert_one_line_error(done, 2, "no vision model is known for provider 'ollama'")
    assert not workspace.video("an-idea").folder.exists()
    assert not list(workspace.state_dir.glob("batch/items*"))  # no manifest: batch stopped before any work


# ---------------------------------------------------------------------------- vidgen plugins


def test_plugins_lists_each_entry_point_its_package_and_what_it_added(plugin: dict[str, str], tmp_path: Path) -> None:
    env = {**plugin, "ACME_URL": "http://127.0.0.1:9/v1"}
    payload = json.loads(run(env, "plugins", "--json", cwd=tmp_path).stdout)
    assert payload["group"] == "vidgen.providers"
    found = {p["name"]: p for p in payload["plugins"]}
    assert set(found) == {"acme", "clash", "broken"}
    assert (found["acme"]["package"], found["acme"]["version"], found["acme"]["value"]) == (
        "vidgen-acme",
        "0.1",
        "vidgen_acme:register",
    )
    assert found["acme"]["providers"] == ["acme"] and found["acme"]["problems"] == []
    assert found["clash"]["providers"] == [] and "already defined" in found["clash"]["problems"][0]
    assert "failed to load: RuntimeError: the plugin is broken" in found["broken"]["problems"][0]

    done = run(env, "plugins", cwd=tmp_path)
    assert done.returncode == 0
    assert "acme  vidgen-acme 0.1  vidgen_acme:register  providers: acme" in done.stdout.splitlines()
    assert "warning: plugin broken: failed to load" in done.stderr


def test_plugins_says_none_are_installed_and_where_vidgen_looks(tmp_path: Path) -> None:
    done = run({"XDG_CONFIG_HOME": str(tmp_path)}, "plugins", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == ""
    assert "no plugins installed" in done.stderr and "vidgen.providers" in done.stderr
    assert json.loads(run({}, "plugins", "--json", cwd=tmp_path).stdout)["plugins"] == []
