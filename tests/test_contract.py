"""The result contract through the real CLI: one JSON object on every path, README exit codes, flags checked first."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import tomllib
from pathlib import Path

import click
import pytest

from vidgen.cli import main
from vidgen.workspace import project as workspace_module
from vidgen.workspace import state
from vidgen.workspace import transcript as transcript_module

from .helpers import MOVING, component, vidgen

REPO = Path(__file__).resolve().parent.parent
NO_KEYS = {"ZAI_API_KEY": "", "OPENAI_API_KEY": "", "OPENROUTER_API_KEY": "", "VIDGEN_API_KEY": ""}


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> workspace_module.Workspace:
    """A workspace without `npm ci`: enough for every error before the ladder."""
    return workspace_module.create(tmp_path_factory.mktemp("bare") / "ws", install=False)


def one_object(done: subprocess.CompletedProcess) -> dict:
    """stdout holds exactly one JSON object, and its exit_code is the process's."""
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, (done.stdout, done.stderr)
    payload = json.loads(lines[0])
    assert isinstance(payload, dict) and payload["exit_code"] == done.returncode, payload
    assert "Traceback" not in done.stderr
    return payload


def assert_error(done: subprocess.CompletedProcess, code: int, *fragments: str) -> dict:
    payload = one_object(done)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert payload["status"] == "error" and isinstance(payload["error"]["message"], str), payload
    # Every error names its kind, as the README promises: a usage error (exit 2) is "usage".
    assert payload["error"]["code"] == ("usage" if code == 2 else payload["error"]["code"]) and payload["error"]["code"], payload
    for fragment in fragments:
        assert fragment in payload["error"]["message"], payload
    return payload


# Each command, with --json, through an error path that needs no npm ci: (arguments, exit code, what the message says).
BARE_ERRORS = [
    (["render", "nope"], 2, "no video 'nope'"),
    (["render", "hello", "--out", "x.mov", "--codec", "vp9"], 2, ".webm"),
    (["render", "hello", "--codec", "avi"], 2, "avi"),
    (["render", "hello", "--out", "src"], 2, "is a folder"),
    (["render", "hello", "--still", "-1"], 2, "--still"),
    (["render", "hello", "--bogus"], 2, "--bogus"),
    (["render"], 2, "NAME"),
    (["still", "hello"], 2, "--frame"),
    (["still", "hello", "--frame", "0", "--out", "x.mp4"], 2, "does not end in .png"),
    (["render", "hello"], 2, "npm ci"),
    (["check", "nope"], 2, "no video 'nope'"),
    (["check", "hello"], 2, "npm ci"),
    (["new", "  "], 2, "the idea is empty"),
    (["new", "a title card"], 2, "npm ci"),
    (["edit", "nope", "bigger"], 2, "no video 'nope'"),
    (["edit", "hello", " "], 2, "the instruction is empty"),
    (["batch", "ideas.txt"], 2, "npm ci"),
    (["batch", "ideas.txt", "--jobs", "0"], 2, "--jobs"),
    (["history", "hello"], 2, "no history"),
    (["undo", "nope"], 2, "no video 'nope'"),
    (["diff", "nope"], 2, "no video 'nope'"),
    (["show", "hello"], 2, "no model exchanges"),
    (["logs", "-n", "-1"], 2, "or 0 for all"),
    (["models", "default", "x", "--clear"], 2, "--clear takes no MODEL"),
    (["list", "extra"], 2, "extra"),
    (["doctor", "--bogus"], 2, "--bogus"),
    (["config", "--codec", "avi"], 2, "avi"),
    (["init", "."], 2, "not empty"),
    (["watch", "hello"], 2, "--json"),  # watch is interactive: --json is not one of its options
    (["studio"], 2, "--json"),
    (["demo"], 2, "--json"),
    (["nosuchcommand"], 2, "nosuchcommand"),
]


@pytest.mark.parametrize(("args", "code", "fragment"), BARE_ERRORS, ids=[" ".join(a) for a, _, _ in BARE_ERRORS])
def test_every_command_prints_one_json_error(bare, args: list[str], code: int, fragment: str) -> None:
    assert_error(vidgen(*args, "--json", cwd=bare.root), code, fragment)


def test_json_errors_outside_a_workspace(tmp_path: Path) -> None:
    for command in (
        ["list"],
        ["render", "hello"],
        ["history", "hello"],
        ["batch", "x.txt"],
        ["config", "--workspace", "nowhere"],
    ):
        assert_error(vidgen(*command, "--json", cwd=tmp_path), 2, "workspace")


def test_usage_errors_keep_clicks_text_without_json(bare) -> None:
    done = vidgen("render", "hello", "--bogus", cwd=bare.root)
    assert done.returncode == 2 and done.stdout == "" and "No such option" in done.stderr


def test_a_damaged_settings_file_is_one_json_error(tmp_path: Path) -> None:
    ws = workspace_module.create(tmp_path / "ws", install=False)
    (ws.root / "vidgen.toml").write_text("[render]\ncodec = 5\n")
    assert_error(vidgen("config", "--json", cwd=ws.root), 2, "render.codec", "vidgen.toml")
    assert_error(vidgen("render", "hello", "--json", cwd=ws.root), 2, "render.codec")


def test_success_objects_say_ok(bare, tmp_path: Path) -> None:
    listed = one_object(vidgen("list", "--json", cwd=bare.root))
    assert listed["status"] == "ok" and [v["name"] for v in listed["videos"]] == ["hello"]
    made = one_object(vidgen("init", str(tmp_path / "new"), "--no-install", "--json", cwd=tmp_path))
    assert made["status"] == "ok" and Path(made["workspace"]) == (tmp_path / "new").resolve()
    doctor = one_object(vidgen("doctor", "--json", cwd=bare.root))
    blocking = [c for c in doctor["checks"] if not c["ok"] and c["needed_to_render"]]
    assert doctor["status"] == ("failed" if blocking else "ok") and doctor["exit_code"] == (1 if blocking else 0)
    assert any(c["name"] == "workspace" and "node_modules" in c["detail"] and not c["ok"] for c in doctor["checks"]), doctor


# ------------------------------------------------------------------ -h, --workspace anywhere, completion


def commands() -> dict[str, click.Command]:
    """Every command of the group, loaded (the group imports a command only when asked for it)."""
    ctx = click.Context(main)
    loaded = {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}
    return {name: command for name, command in loaded.items() if command is not None}


def test_dash_h_is_help_everywhere(bare) -> None:
    assert len(commands()) == 28
    for name in ["", *sorted(commands())]:
        done = vidgen(*([name] if name else []), "-h", cwd=bare.root)
        assert done.returncode == 0 and done.stdout.startswith(f"Usage: vidgen {name}".rstrip()), (name, done.stderr)


def test_workspace_after_the_command(bare, tmp_path: Path) -> None:
    after = one_object(vidgen("list", "--workspace", str(bare.root), "--json", cwd=tmp_path))
    before = one_object(vidgen("--workspace", str(bare.root), "list", "--json", cwd=tmp_path))
    assert after == before and [v["name"] for v in after["videos"]] == ["hello"]
    assert_error(vidgen("list", "--workspace", str(tmp_path / "none"), "--json", cwd=bare.root), 2, "vidgen init")


def complete(words: str, cwd: Path) -> list[str]:
    """What bash completion offers for the last word of `words`."""
    env = {"_VIDGEN_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    done = vidgen(cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if line]


def test_video_names_complete(bare, tmp_path: Path) -> None:
    other = bare.video("hover-card")
    other.folder.mkdir(parents=True)
    (other.folder / "index.tsx").write_text(component(MOVING))
    try:
        assert complete("vidgen render h", bare.root) == ["hello", "hover-card"]
        assert complete("vidgen undo hov", bare.root) == ["hover-card"]
        assert complete(f"vidgen render --workspace {bare.root} hel", tmp_path) == ["hello"]
        assert complete("vidgen render h", tmp_path) == []  # no workspace: nothing offered, no error
    finally:
        other.folder.joinpath("index.tsx").unlink()
        other.folder.rmdir()


# ------------------------------------------------------------------ vidgen config


def test_config_says_where_each_setting_comes_from(tmp_path: Path) -> None:
    ws = workspace_module.create(tmp_path / "ws", install=False)
    toml = ws.root / "vidgen.toml"
    # init writes every key: one deleted falls back to its default.
    toml.write_text(toml.read_text().replace("max_repairs = 3", "max_repairs = 5").replace("max_retries = 4\n", ""))
    env = {"VIDGEN_CODEC": "vp9", "VIDGEN_PROVIDER": ""}
    done = vidgen(
        "config",
        "--provider",
        "openai",
        "--no-qa",
        "--base-url",
        "https://me:hunter2@llm.test/v1",
        "--json",
        cwd=ws.root,
        env=env,
    )
    rows = {row["key"]: row for row in one_object(done)["settings"]}
    assert rows["render.codec"] == {"key": "render.codec", "value": "vp9", "source": "environment", "variable": "VIDGEN_CODEC"}
    assert (rows["model.max_repairs"]["value"], rows["model.max_repairs"]["source"]) == (5, "vidgen.toml")
    assert (rows["model.provider"]["value"], rows["model.provider"]["source"]) == ("openai", "flag")
    assert (rows["qa.enabled"]["value"], rows["qa.enabled"]["source"]) == (False, "flag")
    assert (rows["model.max_retries"]["value"], rows["model.max_retries"]["source"]) == (4, "default")
    assert rows["model.base_url"]["value"] == "https://llm.test/v1" and "hunter2" not in done.stdout + done.stderr
    text = vidgen("config", cwd=ws.root, env=env).stdout
    assert re.search(r"^render\.codec\s+vp9\s+environment VIDGEN_CODEC$", text, re.M), text
    assert re.search(r"^model\.max_repairs\s+5\s+vidgen\.toml$", text, re.M), text


def test_config_outside_a_workspace_shows_defaults(tmp_path: Path) -> None:
    done = vidgen("config", "--json", cwd=tmp_path, env={"VIDGEN_MODEL": ""})
    payload = one_object(done)
    assert payload["workspace"] is None
    assert {row["source"] for row in payload["settings"]} <= {"default", "environment"}


# ------------------------------------------------------------------ what the commands print


def test_show_prints_usage_as_a_line(tmp_path: Path) -> None:
    bare = workspace_module.create(tmp_path / "ws", install=False)
    video = bare.video("hello")
    request = {"role": "user", "content": "make it"}
    transcript_module.append(
        video, {"kind": "new", "request": request, "reply": "ok", "usage": {"prompt": 120, "completion": 45, "cached": 20}}
    )
    done = vidgen("show", "hello", cwd=bare.root)
    first = done.stdout.splitlines()[0]
    assert done.returncode == 0 and first.endswith("new  120 prompt (20 cached) + 45 completion tokens"), first
    shown = one_object(vidgen("show", "hello", "--json", cwd=bare.root))
    assert shown["exchange"]["usage"] == {"prompt": 120, "completion": 45, "cached": 20} and shown["last_error"] is None


def test_diff_and_undo_without_history_say_what_to_do(tmp_path: Path) -> None:
    ws = workspace_module.create(tmp_path / "ws", install=False)
    for command in ("undo", "diff"):
        done = vidgen(command, "hello", cwd=ws.root)
        assert done.returncode == 2 and "vidgen edit hello" in done.stderr and "vidgen history" not in done.stderr
    # undo kept the files found on disk as version 1 before refusing: its diff adds them all.
    first = vidgen("diff", "hello", "--version", "1", cwd=ws.root)
    assert first.returncode == 0 and "--- nothing/index.tsx\n+++ version 1/index.tsx\n@@ -0,0 +1," in first.stdout
    done = vidgen("diff", "hello", "--version", "2", cwd=ws.root)
    assert done.returncode == 2 and "hello has no version 2: it has versions 1 to 1" in done.stderr


# ------------------------------------------------------------------ exit codes that need the real workspace


def test_a_missing_key_is_exit_3(workspace, tmp_path: Path) -> None:
    idea = "a contract title card"
    env = {**NO_KEYS, "XDG_CONFIG_HOME": str(tmp_path)}  # no stored key either
    assert_error(vidgen("new", idea, "--provider", "zai", "--json", cwd=workspace.root, env=env), 3, "ZAI_API_KEY")
    assert not workspace.video(workspace_module.name_from_idea(workspace, idea)).folder.exists()


@pytest.mark.render
def test_a_still_past_the_end_is_a_usage_error_that_keeps_the_state(workspace, make_video) -> None:
    make_video("contract-still", {"index.tsx": component(MOVING)})  # 30 frames: 0 to 29
    state.record(workspace, "contract-still", status="rendered", output="out/contract-still.mp4")
    before = state.read(workspace)["contract-still"]
    done = vidgen("render", "contract-still", "--still", "30", "--json", cwd=workspace.root)
    payload = assert_error(done, 2, "--still 30", "0 to 29")
    assert state.read(workspace)["contract-still"] == before, payload
    assert not (workspace.out_dir / "contract-still-30.png").exists()


@pytest.mark.render
def test_still_draws_one_frame_as_render_still_does(workspace, make_video, tmp_path: Path) -> None:
    make_video("contract-frame", {"index.tsx": component(MOVING)})  # 30 frames: 0 to 29
    target = tmp_path / "frame.png"
    done = vidgen("still", "contract-frame", "--frame", "29", "--out", str(target), "--json", cwd=workspace.root)
    payload = one_object(done)
    assert done.returncode == 0 and payload["output"] == str(target.resolve()), payload
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Past the end: one line, the valid range, in the words of the option given; nothing drawn.
    done = vidgen("still", "contract-frame", "--frame", "30", "--quiet", cwd=workspace.root)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "error: --frame 30 is past the end of contract-frame, whose frames are 0 to 29: choose one of those"
    ], done.stderr
    assert_error(vidgen("still", "contract-frame", "--frame", "30", "--json", cwd=workspace.root), 2, "0 to 29")
    assert not (workspace.out_dir / "contract-frame-30.png").exists()


# ------------------------------------------------------------------ the README and docs/

# Pages other branches write, linked from the README before they land: a link to one is let pass only
# while the page does not exist; once it does, its links and anchors are checked like any other.
PAGES_WRITTEN_ELSEWHERE = {"docs/architecture.md", "docs/tests.md"}


def readme() -> str:
    return (REPO / "README.md").read_text()


def doc_pages() -> list[Path]:
    """The README and every page under docs/."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def anchors(page: Path) -> set[str]:
    """The anchors GitHub makes of a Markdown page's headings (code blocks left out)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    slugs: set[str] = set()
    counts: dict[str, int] = {}
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slugs.add(slug if slug not in counts else f"{slug}-{counts[slug]}")
        counts[slug] = counts.get(slug, 0) + 1
    return slugs


def test_readme_and_docs_link_only_files_in_the_repo() -> None:
    """Every relative link of the README and docs/*.md resolves from its page, and so does its #anchor."""
    checked = 0
    for page in doc_pages():
        text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
        for link in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            name = f"{page.relative_to(REPO)}: {link}"
            if not target.exists() and target.relative_to(REPO).as_posix() in PAGES_WRITTEN_ELSEWHERE:
                continue
            assert target.exists(), name
            assert target.resolve().is_relative_to(REPO), name
            if anchor:
                assert target.suffix == ".md" and anchor in anchors(target), name
            checked += 1
    assert checked > 20, "the README and docs link no file of the repo"


def test_the_readme_is_a_first_read_that_leads_to_every_page() -> None:
    """At most 250 lines, the poster of `hello` shown, and every page of docs/ one link away."""
    text = readme()
    assert len(text.splitlines()) <= 250
    assert "](docs/hello-poster.png)" in text
    pages = {page.name for page in (REPO / "docs").glob("*.md")} | {Path(p).name for p in PAGES_WRITTEN_ELSEWHERE}
    assert sorted(name for name in pages if f"](docs/{name}" not in text) == []


def test_the_make_targets_the_docs_name_exist() -> None:
    """`make X` in the README and docs names a target of the Makefile, and CI runs the README's test command."""
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    named = {target for page in doc_pages() for target in re.findall(r"(?:`|^)make ([a-z][a-z-]*)", page.read_text(), re.M)}
    assert {"demo", "test", "test-fast", "bench"} <= named
    assert sorted(named - targets) == []
    ci = (REPO / ".ci" / "run").read_text()
    assert ci.endswith("\nmake test\n") and "make test-fast" in readme() and ".ci/run" in readme()
    # What the README says `make test` runs is what the Makefile's lint target runs before pytest.
    assert re.search(r"^test: setup lint$", makefile, re.M)
    for tool in ("ruff check", "ruff format --check", "mypy"):
        assert tool in makefile and f"`{tool}`" in readme(), tool


def test_every_vidgen_command_line_in_the_docs_exists() -> None:
    """Each `vidgen ...` line of a code block in the README and docs names a real command and only its options;
    each `vidgen NAME` in running text names a real command."""
    import shlex

    lines = 0
    for page in doc_pages():
        text = page.read_text()
        for language, block in re.findall(r"^```(\w*)\n(.*?)^```", text, re.M | re.S):
            for line in block.splitlines() if language in ("sh", "bash", "") else ():
                lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
                lexer.whitespace_split = True
                commands: list[list[str]] = [[]]  # the line cut at its pipes
                for token in lexer:
                    if token == "|":
                        commands.append([])
                    else:
                        commands[-1].append(token)
                for words in commands:
                    if not words or words[0] != "vidgen":
                        continue
                    name = f"{page.name}: {line.strip()}"
                    words = words[1:]
                    if words[:1] == ["--workspace"]:
                        words = words[2:]
                    command: click.Command = main
                    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
                        # Asked as click asks (the CLI loads its commands lazily: `commands` is empty until then).
                        found = command.get_command(click.Context(command), words.pop(0))
                        assert found is not None, name
                        command = found
                    known = {o for param in command.params for o in [*param.opts, *param.secondary_opts]} | {
                        "--workspace",
                        "--help",
                    }
                    options = {word.split("=")[0] for word in words if word.startswith("--")}
                    assert sorted(options - known) == [], name
                    lines += 1
        for command_name in re.findall(r"`vidgen ([a-z][a-z-]*)", text):
            assert main.get_command(click.Context(main), command_name) is not None, f"{page.name}: vidgen {command_name}"
    assert lines > 30


def test_every_setting_and_variable_is_documented() -> None:
    from vidgen import settings as settings_module

    doc = (REPO / "docs" / "config.md").read_text()
    assert "docs/config.md" in readme()
    # Each section's table has a row for every key, with the default and the variable the code has.
    tables = dict(re.findall(r"^### \[([a-z]+)\]\n(.*?)(?=^##|\Z)", doc, re.M | re.S))
    assert list(tables) == list(settings_module.sections())
    for section, cls in settings_module.sections().items():
        rows = {
            row[0].strip("` "): row
            for row in (line.split("|")[1:-1] for line in tables[section].splitlines() if line.startswith("| `"))
        }
        assert sorted(rows) == sorted(f.name for f in dataclasses.fields(cls)), section
        for f in dataclasses.fields(cls):
            row = rows[f.name]
            documented = tomllib.loads(f"value = {row[1].strip().strip('`')}")["value"]
            assert documented == f.default and type(documented) in (type(f.default), int), f"{section}.{f.name}: {row[1]}"
            variables = re.findall(r"`(VIDGEN_[A-Z_]+)`", row[2]) if len(row) > 3 else []
            assert variables == ([f.metadata["env"]] if f.metadata.get("env") else []), f"{section}.{f.name}"
    # `vidgen init` writes every key at its default.
    written = tomllib.loads(settings_module.DEFAULT_TOML)
    assert written == {section: dataclasses.asdict(cls()) for section, cls in settings_module.sections().items()}
    # Every VIDGEN_* name the code reads or mentions in a message, so an error never names an undocumented one.
    code = "\n".join(p.read_text() for p in (REPO / "vidgen").rglob("*.py"))
    # Less the two vidgen passes to its own service and daemon.
    named = set(re.findall(r"VIDGEN_[A-Z_]+[A-Z]", code)) - {"VIDGEN_SERVICE_SETTINGS", "VIDGEN_DAEMON_CONFIG"}
    assert named and sorted(v for v in named if f"`{v}`" not in doc) == []


def option_names(command: click.Command) -> set[str]:
    """A command's long options; a group's are its subcommands' (`vidgen daemon status --json`)."""
    names = set()
    for sub in command.commands.values() if isinstance(command, click.Group) else ():
        names |= option_names(sub)
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "workspace":
            names.update(o for o in [*param.opts, *param.secondary_opts] if o.startswith("--"))
    return names


def test_the_guide_option_table_matches_help() -> None:
    """docs/guide.md's table of commands and options is `vidgen --help`, command by command."""
    rows = re.findall(r"^\| `vidgen ([a-z]+)[^|]*\| ([^|]*) \|$", (REPO / "docs" / "guide.md").read_text(), re.M)
    table = {name: set(re.findall(r"--[a-z][a-z-]*", options)) for name, options in rows}
    assert set(table) == set(commands()), "one row per command"
    for name, command in commands().items():
        assert table[name] == option_names(command), name
