"""Damaged state and settings, through the real CLI: exit 2, one line naming the file, no traceback,
never the file's content, and the model never asked (each damage is its own test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidgen.batch.manifest import path_for
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.workspace import history
from vidgen.workspace import project as workspace_module

from .helpers import MOVING, assert_one_line_error, component, model_flags, vidgen

MARK = "CONTENT-MARK-7f3a"  # written into every damaged file; it must never be shown


@pytest.fixture
def spare(workspace, tmp_path: Path) -> workspace_module.Workspace:
    """A workspace of its own, whose state may be damaged, sharing the session's node_modules."""
    ws = workspace_module.create(tmp_path / "spare", install=False)
    (ws.root / "node_modules").symlink_to(workspace.root / "node_modules")
    return ws


def ladder_output(ws: workspace_module.Workspace) -> list[Path]:
    """What a run of the ladder leaves: a build, stills, a render (a render service may have made the empty
    folders when it started: its jail writes there)."""
    folders = (ws.state_dir / "bundle", ws.state_dir / "stills", ws.out_dir)
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def assert_refused(done, file_name: str) -> None:
    assert_one_line_error(done, 2, file_name)
    assert MARK not in done.stderr and MARK not in done.stdout


# ------------------------------------------------------------------------------ state.json

STATE_DAMAGE = {
    "bad-json": f'{{"hello": {{"status": "{MARK}"'.encode(),
    "a-list": f'["{MARK}"]'.encode(),
    "a-string-entry": f'{{"hello": "{MARK}"}}'.encode(),
    "number-for-text": f'{{"hello": {{"status": 5, "at": "{MARK}"}}}}'.encode(),
    "missing-at": f'{{"hello": {{"status": "{MARK}"}}}}'.encode(),
    "bad-utf8": b'{"hello": {"status": "\xff\xfe' + MARK.encode() + b'", "at": "x"}}',
}


@pytest.mark.parametrize("damage", sorted(STATE_DAMAGE))
def test_a_damaged_state_json_stops_list(spare, damage: str) -> None:
    (spare.state_dir / "state.json").write_bytes(STATE_DAMAGE[damage])
    done = vidgen("list", cwd=spare.root, timeout=60)
    assert_refused(done, "state.json")
    assert "delete it" in done.stderr


def test_a_damaged_state_json_stops_render_before_the_ladder(spare) -> None:
    (spare.state_dir / "state.json").write_bytes(STATE_DAMAGE["a-list"])
    done = vidgen("render", "hello", cwd=spare.root, timeout=60)
    assert_refused(done, "state.json")
    assert not ladder_output(spare) and not list(spare.out_dir.iterdir())


# ------------------------------------------------------------------------- history meta.json

META_DAMAGE = {
    "bad-json": f'{{"kind": "{MARK}"'.encode(),
    "a-list": f'["{MARK}"]'.encode(),
    "tokens-as-text": f'{{"kind": "new", "tokens": "{MARK}"}}'.encode(),
    "token-count-as-text": f'{{"kind": "new", "tokens": {{"prompt": "{MARK}"}}}}'.encode(),
    "status-as-number": b'{"kind": "new", "status": 5}',
    "bad-utf8": b'{"kind": "\xc3\x28' + MARK.encode() + b'"}',
}


def _damaged_history(ws: workspace_module.Workspace, damage: str) -> workspace_module.Video:
    video = ws.video("hello")
    history.record(video, "new", "the first version")
    meta = ws.state_dir / "history" / "hello" / "0001" / "meta.json"
    meta.write_bytes(META_DAMAGE[damage])
    return video


@pytest.mark.parametrize("damage", sorted(META_DAMAGE))
def test_a_damaged_meta_json_stops_history_with_its_name(spare, damage: str) -> None:
    _damaged_history(spare, damage)
    done = vidgen("history", "hello", cwd=spare.root, timeout=60)
    assert_refused(done, "meta.json")
    assert "0001" in done.stderr and "move the folder" in done.stderr


@pytest.mark.parametrize("damage", sorted(META_DAMAGE))
def test_edit_with_a_damaged_history_never_asks_the_model(spare, damage: str) -> None:
    _damaged_history(spare, damage)
    before = spare.video("hello").entry.read_bytes()
    with ScriptedModel([Scripted("```tsx index.tsx\nexport default 1;\n```\n")]) as server:
        done = vidgen("edit", "hello", "make it blue", *model_flags(server), cwd=spare.root, timeout=60)
    assert_refused(done, "meta.json")
    assert server.requests == []  # nothing paid for, nothing lost
    assert spare.video("hello").entry.read_bytes() == before


def test_undo_and_diff_with_a_damaged_history_say_so(spare) -> None:
    _damaged_history(spare, "a-list")
    for command in ("undo", "diff"):
        assert_refused(vidgen(command, "hello", cwd=spare.root, timeout=60), "meta.json")


# ---------------------------------------------------- the current-version pointer and kept renders

POINTER_DAMAGE = {
    "bad-json": f'{{"version": "{MARK}"'.encode(),
    "a-list": f'["{MARK}"]'.encode(),
    "version-as-text": f'{{"version": "{MARK}"}}'.encode(),
    "a-version-not-kept": b'{"version": 99}',
    "bad-utf8": b'{"version": "\xff' + MARK.encode() + b'"}',
}


@pytest.mark.parametrize("damage", sorted(POINTER_DAMAGE))
def test_a_damaged_pointer_stops_history_undo_redo_and_render(spare, damage: str) -> None:
    video = spare.video("hello")
    history.record(video, "new", "the first version")
    before = video.entry.read_bytes()
    (spare.state_dir / "history" / "hello" / "current.json").write_bytes(POINTER_DAMAGE[damage])
    for command in ("history", "undo", "redo", "diff", "render"):
        done = vidgen(command, "hello", cwd=spare.root, timeout=120)
        assert_refused(done, "current.json")
        assert "delete it" in done.stderr
    assert video.entry.read_bytes() == before
    assert not ladder_output(spare) and not list(spare.out_dir.iterdir())


def _two_versions(ws: workspace_module.Workspace) -> workspace_module.Video:
    video = ws.video("hello")
    history.record(video, "new", "the first version")
    video.entry.write_text(video.entry.read_text() + "// the second version\n")
    history.record(video, "edit", "the second version")
    return video


def test_a_renders_folder_that_is_a_link_is_never_followed(spare, tmp_path: Path) -> None:
    video = _two_versions(spare)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (spare.state_dir / "renders").mkdir()
    (spare.state_dir / "renders" / "hello").symlink_to(elsewhere)
    before = video.entry.read_bytes()
    for command in ("render", "undo", "history"):
        assert_refused(vidgen(command, "hello", cwd=spare.root, timeout=120), "is not a folder")
    assert video.entry.read_bytes() == before and list(elsewhere.iterdir()) == []
    assert not ladder_output(spare)


def test_a_kept_video_that_is_a_folder_is_refused_before_any_change(spare) -> None:
    video = _two_versions(spare)
    kept = spare.state_dir / "renders" / "hello" / "v1.mp4"
    kept.mkdir(parents=True)
    (kept / "mine.txt").write_text("keep me")
    before = video.entry.read_bytes()
    for command in ("undo", "render"):
        assert_refused(vidgen(command, "hello", cwd=spare.root, timeout=120), "v1.mp4 is not a video file")
    assert video.entry.read_bytes() == before and (kept / "mine.txt").read_text() == "keep me"
    assert not ladder_output(spare)


# ------------------------------------------------------------------------------- manifests

MANIFEST_DAMAGE = {
    "bad-json": f'{{"items": {{"{MARK}"'.encode(),
    "a-list": f'["{MARK}"]'.encode(),
    "items-as-list": f'{{"items": ["{MARK}"]}}'.encode(),
    "name-escaping-the-videos-folder": b'{"items": {"k": {"name": "../../../etc", "status": "failed"}}}',
    "usage-as-text": f'{{"items": {{"k": {{"usage": "{MARK}"}}}}}}'.encode(),
    "bad-utf8": b'{"items": {"\xff' + MARK.encode() + b'": {}}}',
}


@pytest.mark.parametrize("damage", sorted(MANIFEST_DAMAGE))
def test_a_damaged_manifest_stops_the_batch_before_the_model(spare, tmp_path: Path, damage: str) -> None:
    ideas = tmp_path / "ideas.txt"
    ideas.write_text("a square\n")
    manifest = path_for(spare, ideas)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_bytes(MANIFEST_DAMAGE[damage])
    with ScriptedModel([Scripted("never sent")]) as server:
        done = vidgen("batch", str(ideas), "--resume", *model_flags(server), cwd=spare.root, timeout=60)
    assert_refused(done, manifest.name)
    assert "start this batch afresh" in done.stderr
    assert server.requests == []


# ------------------------------------------------------------------------------ vidgen.toml

TOML_DAMAGE = {
    "bad-toml": f'[render\ncodec = "{MARK}"\n'.encode(),
    "section-as-number": b"render = 5\n",
    "section-as-list": f'limits = ["{MARK}"]\n'.encode(),
    "number-for-text": b"[render]\ncodec = 5\n",
    "text-for-number": f'[limits]\nmax_fps = "{MARK}"\n'.encode(),
    "list-for-text": f'[model]\nbase_url = ["{MARK}"]\n'.encode(),
    "not-a-number": b"[render]\nframe_timeout_s = nan\n",
    "bad-utf8": b'[render]\ncodec = "\xff\xfe' + MARK.encode() + b'"\n',
}


@pytest.mark.parametrize("damage", sorted(TOML_DAMAGE))
def test_a_damaged_vidgen_toml_is_a_usage_error(spare, damage: str) -> None:
    (spare.root / "vidgen.toml").write_bytes(TOML_DAMAGE[damage])
    done = vidgen("render", "hello", cwd=spare.root, timeout=60)
    assert_refused(done, "vidgen.toml")
    assert not list(spare.out_dir.iterdir())


@pytest.mark.parametrize(
    ("file", "damage"), [(".vidgen/state.json", STATE_DAMAGE["bad-json"]), ("vidgen.toml", TOML_DAMAGE["section-as-number"])]
)
def test_edit_with_a_damaged_state_or_settings_file_never_asks_the_model(spare, file: str, damage: bytes) -> None:
    (spare.root / file).write_bytes(damage)
    with ScriptedModel([Scripted("never sent")]) as server:
        done = vidgen("edit", "hello", "make it blue", *model_flags(server), cwd=spare.root, timeout=60)
    assert_refused(done, Path(file).name)
    assert server.requests == []


# ------------------------------------------------------------------------------ transcripts

TRANSCRIPT_DAMAGE = {
    "bad-json-line": f'{{"time": "t", "kind": "new", "request": {{"content": "{MARK}"\n{{}}\n'.encode(),
    "a-list-line": f'["{MARK}"]\n'.encode(),
    "request-as-text": f'{{"time": "t", "kind": "new", "request": "{MARK}"}}\n'.encode(),
    "bad-utf8": b'{"time": "t", "kind": "new", "request": {"content": "\xff' + MARK.encode() + b'"}}\n',
}


@pytest.mark.parametrize("damage", sorted(TRANSCRIPT_DAMAGE))
def test_a_damaged_transcript_stops_show(spare, damage: str) -> None:
    transcript = spare.state_dir / "transcripts" / "hello.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_bytes(TRANSCRIPT_DAMAGE[damage])
    assert_refused(vidgen("show", "hello", cwd=spare.root, timeout=60), "hello.jsonl")


def test_a_transcript_line_cut_by_a_crash_is_skipped(spare) -> None:
    transcript = spare.state_dir / "transcripts" / "hello.jsonl"
    transcript.parent.mkdir(parents=True)
    whole = {"time": "t", "kind": "new", "request": {"role": "user", "content": "a square"}, "reply": "the reply"}
    transcript.write_text(json.dumps(whole) + "\n" + '{"time": "t", "kind": "rep')
    done = vidgen("show", "hello", cwd=spare.root, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "the reply" in done.stdout


# ---------------------------------------------------------------------- batch lines' types

TYPED = (
    '{"prompt": "a typed good square", "name": "h-typed-good"}\n'
    '{"prompt": "bad size", "size": 5}\n'
    '{"prompt": "bad seconds", "seconds": "x"}\n'
    '{"prompt": 3}\n'
    '{"prompt": "bad name", "name": [1]}\n'
    '{"prompt": "huge fps", "fps": 1e400}\n'
    '{"prompt": "yes fps", "fps": true}\n'
    '{"prompt": "list aspect", "aspect": ["16:9"]}\n'
)


@pytest.mark.render
def test_batch_lines_with_wrong_types_are_skipped_and_the_rest_renders(workspace, tmp_path: Path) -> None:
    ideas = tmp_path / "typed.jsonl"
    ideas.write_text(TYPED)
    good = f"Done.\n\n```tsx index.tsx\n{component(MOVING, frames=20)}```\n"
    try:
        with ScriptedModel(lambda _body: Scripted(good)) as server:
            done = vidgen("batch", str(ideas), "--json", *model_flags(server), cwd=workspace.root)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr
        skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped typed.jsonl line ")]
        assert [int(line.split()[3].rstrip(":")) for line in skipped] == [2, 3, 4, 5, 6, 7, 8]
        payload = json.loads(done.stdout)
        assert [(i["name"], i["status"]) for i in payload["items"]] == [("h-typed-good", "rendered")]
        # Only the good line reached the model (a retry under load may ask it twice).
        assert {r["body"]["messages"][1]["content"].count("a typed good square") > 0 for r in server.requests} == {True}
    finally:
        import shutil

        shutil.rmtree(workspace.video("h-typed-good").folder, ignore_errors=True)
