"""Reading replies, guarding writes, holding the config's numbers, and keeping history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidgen.agent import replies, writer
from vidgen.check import constraints
from vidgen.errors import ReplyError, UsageError
from vidgen.settings import Limits
from vidgen.sound import music, narration
from vidgen.workspace import history
from vidgen.workspace import project as workspace_module
from vidgen.workspace.project import Workspace

GOOD = "Here it is.\n\n```tsx index.tsx\nexport const a = `${1}`;\n```\n\n```ts scenes/Intro.ts\nexport const b = 2;\n```\n"


def parse(text: str, require_index: bool = True) -> list[replies.FileBlock]:
    return replies.parse(text, "demo", require_index=require_index)


def test_whole_files_one_block_each() -> None:
    blocks = parse(GOOD)
    assert [(b.path, b.language) for b in blocks] == [("index.tsx", "tsx"), ("scenes/Intro.ts", "ts")]
    assert blocks[0].text == "export const a = `${1}`;\n"


def test_backtick_lines_inside_a_longer_fence_do_not_close_it() -> None:
    text = "````tsx index.tsx\nconst md = `\n```\n`;\n````\n"
    assert parse(text)[0].text == "const md = `\n```\n`;\n"


def test_info_string_variants_and_workspace_paths() -> None:
    assert parse("```tsx src/videos/demo/index.tsx\nx\n```")[0].path == "index.tsx"
    assert parse("```tsx title=index.tsx\nx\n```")[0].path == "index.tsx"
    assert parse("```tsx\n// file: index.tsx\nx\n```")[0].text == "x\n"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I would make a nice video with a map.", "no_code"),
        ("```tsx index.tsx\nconst a = 1;\n", "unterminated"),
        ("```tsx\nconst a = 1;\n```", "no_path"),
        ("```tsx index.tsx\nimport React from 'react';\\nconst a = 1;\\nexport default a;\\n\n```", "json_escaped"),
        ("```tsx index.tsx\na\n```\n```tsx index.tsx\nb\n```", "duplicate"),
        ("```tsx Scene.tsx\na\n```", "no_index"),
    ],
)
def test_bad_replies_are_classified(text: str, kind: str) -> None:
    with pytest.raises(ReplyError) as raised:
        parse(text)
    assert raised.value.kind == kind


def test_shell_snippets_in_prose_are_not_files() -> None:
    assert [b.path for b in parse("Run:\n```sh\nnpm i\n```\n" + GOOD)] == ["index.tsx", "scenes/Intro.ts"]


def _video(tmp_path: Path):
    (tmp_path / "package.json").write_text("{}")
    video = Workspace(tmp_path).video("demo")
    video.folder.mkdir(parents=True)
    return video


@pytest.mark.parametrize(
    "path",
    [
        "../hello/index.tsx",
        "/etc/passwd.ts",
        "package.json",
        "tsconfig.json",
        ".env",
        "node_modules/x/index.ts",
        "script.sh",
        "remotion.config.ts",
        "a/../../b.ts",
        "C:/x.ts",
        "~/.bashrc",
        "package-lock.json",
        ".eslintrc.json",
    ],
)
def test_the_guard_refuses(tmp_path: Path, path: str) -> None:
    video = _video(tmp_path)
    with pytest.raises(ReplyError) as raised:
        writer.write(video, [replies.FileBlock("index.tsx", "tsx", "ok\n"), replies.FileBlock(path, "tsx", "x")])
    assert raised.value.kind == "refused"
    assert list(video.folder.iterdir()) == []  # nothing written unless every file passes


def test_the_guard_follows_no_symlink_and_caps_size(tmp_path: Path) -> None:
    video = _video(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (video.folder / "scenes").symlink_to(outside)
    with pytest.raises(ReplyError, match="symbolic link"):
        writer.write(video, [replies.FileBlock("scenes/A.tsx", "tsx", "x")])
    with pytest.raises(ReplyError, match="cap"):
        writer.write(video, [replies.FileBlock("big.ts", "ts", "x" * (writer.MAX_FILE_BYTES + 1))])
    assert list(outside.iterdir()) == []


def test_the_guard_writes_atomically_inside_the_folder(tmp_path: Path) -> None:
    video = _video(tmp_path)
    written = writer.write(video, parse(GOOD))
    assert [p.relative_to(video.folder).as_posix() for p in written] == ["index.tsx", "scenes/Intro.ts"]
    assert not [p for p in video.folder.rglob("*") if p.name.endswith(".partial")]


def test_a_generated_module_is_never_taken_from_a_reply(tmp_path: Path) -> None:
    video = _video(tmp_path)
    (video.folder / "narration.ts").write_text("// vidgen's own\n")
    blocks = [replies.FileBlock("index.tsx", "tsx", "ok\n"), replies.FileBlock("narration.ts", "ts", "// the model's old copy\n")]
    written = writer.write(video, blocks)
    assert [p.name for p in written] == ["index.tsx"]
    assert (video.folder / "narration.ts").read_text() == "// vidgen's own\n"
    assert workspace_module.GENERATED_FILES == {narration.MODULE, music.MODULE}


def test_constraints_hold_whatever_the_model_wrote(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text(
        "export const config = {\n  durationInFrames: 5 * 60,\n  fps: 60,\n  width: 1920,\n  height: 1080,\n};\n"
    )
    wanted = constraints.build(2, 30, "640x360", None, Limits())
    assert constraints.enforce(video.entry, wanted) is None
    text = video.entry.read_text()
    assert "durationInFrames: 60," in text and "fps: 30," in text and "width: 640," in text and "height: 360," in text
    video.entry.write_text("export const config = {durationInFrames: 90, width: 1280, height: 720};\n")
    constraints.enforce(video.entry, constraints.build(None, 24, None, "9:16", Limits()))
    assert video.entry.read_text() == "export const config = {durationInFrames: 90, width: 720, height: 1280, fps: 24};\n"
    video.entry.write_text("export const config = makeConfig();\n")
    assert "object literal" in constraints.enforce(video.entry, wanted)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((1, 30, "641x360", None), "even"),
        ((1, 30, "big", None), "WIDTHxHEIGHT"),
        ((1, 0, None, None), "--fps"),
        ((0, 30, None, None), "--seconds"),
        ((99999, 30, None, None), "--seconds"),
        ((1, 30, "640x360", "16:9"), "not both"),
        ((1, 30, None, "2:1"), "--aspect"),
    ],
)
def test_bad_shapes_are_usage_errors(args: tuple, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        constraints.build(*args, Limits())


def test_history_keeps_hand_edits_and_undoes(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text("v1\n")
    history.record(video, "new", "first")
    video.entry.write_text("v1 edited by hand\n")
    kept = history.keep_hand_edits(video)
    assert kept is not None and kept.meta["kind"] == "hand-edit"
    assert history.keep_hand_edits(video) is None  # nothing new on disk
    video.entry.write_text("v2\n")
    history.record(video, "edit", "second")
    assert "-v1 edited by hand" in history.diff(video) and "+v2" in history.diff(video)
    undone = history.undo(video)
    assert video.entry.read_text() == "v1 edited by hand\n" and undone.meta["kind"] == "hand-edit"
    assert history.undo(video).number == 1 and video.entry.read_text() == "v1\n"  # a second undo goes further back
    with pytest.raises(UsageError, match="no earlier version"):
        history.undo(video)
    assert [history.redo(video).number for _ in range(2)] == [2, 3] and video.entry.read_text() == "v2\n"
    with pytest.raises(UsageError, match="no later version"):
        history.redo(video)
    # Undo and redo move a pointer: no version is added.
    assert [v.meta["kind"] for v in history.versions(video)] == ["new", "hand-edit", "edit"]
    # A new version after an undo is made from the version undone to: undo returns there, redo comes back.
    history.undo(video)
    video.entry.write_text("v3 from v1 edited\n")
    history.record(video, "edit", "third")
    assert history.undo(video).number == 2 and history.redo(video).number == 4
    # A version's own diff is against the version it was made from (2, not 3), the first one's against nothing.
    made = history.version_diff(video, 4)
    assert "--- version 2/index.tsx" in made and "-v1 edited by hand" in made and "+v3 from v1 edited" in made
    assert "+++ version 1/index.tsx" in history.version_diff(video, 1) and "+v1" in history.version_diff(video, 1)
    with pytest.raises(UsageError, match="no version 9: it has versions 1 to 4"):
        history.version_diff(video, 9)
    # `undo --to N` goes straight to any version, keeping a hand edit first.
    assert history.go_to(video, 1).number == 1 and video.entry.read_text() == "v1\n"
    video.entry.write_text("v1 changed again\n")
    assert history.go_to(video, 3).number == 3 and video.entry.read_text() == "v2\n"
    assert history.versions(video)[-1].meta["kind"] == "hand-edit"  # the change on disk was kept as version 5
    with pytest.raises(UsageError, match="has no version 9: it has versions 1 to 5"):
        history.go_to(video, 9)


def test_atomic_writes_keep_permissions(tmp_path: Path) -> None:
    from vidgen.workspace.files import atomic_write

    mine = tmp_path / "index.tsx"
    mine.write_text("old")
    mine.chmod(0o640)
    atomic_write(mine, "new")
    assert mine.read_text() == "new" and mine.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.json"
    atomic_write(fresh, "{}")
    assert fresh.stat().st_mode & 0o044  # readable as any new file, not mkstemp's 0600
    script = tmp_path / "launcher.sh"
    atomic_write(script, "#!/bin/sh\n", mode=0o755)
    assert script.stat().st_mode & 0o777 == 0o755
    assert [p.name for p in tmp_path.iterdir() if ".partial" in p.name] == []


# ---------------------------------------------------------------- hostile paths: nothing written

LONG = "a" * 300 + ".tsx"


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("sc\x00enes.tsx", "control character"),
        ("scenes\n.tsx", "control character"),
        (LONG, "over 100 characters"),
        ("scenes/" + LONG, "over 100 characters"),
        ("a/b/c/d/e/f/g.tsx", "folders deep"),
        ("..", "no .."),
        ("../secret.tsx", "no .."),
        ("/tmp/abs.tsx", "relative"),
        ("scenes/intro.sh", "only"),
        ("sp ace.tsx", "letters, digits"),
        ("quote'.tsx", "letters, digits"),
    ],
)
def test_a_reply_with_one_bad_path_writes_nothing(tmp_path: Path, path: str, why: str) -> None:
    video = _video(tmp_path)
    with pytest.raises(ReplyError) as raised:
        writer.write(video, [replies.FileBlock("index.tsx", "tsx", "ok\n"), replies.FileBlock(path, "tsx", "x")])
    assert raised.value.kind == "refused" and why in str(raised.value)
    assert "\x00" not in str(raised.value) and len(str(raised.value)) < 300
    assert list(video.folder.iterdir()) == []


def test_a_symlinked_target_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    video = _video(tmp_path)
    secret = tmp_path / "secret.ts"
    secret.write_text("keep me")
    (video.folder / "data.ts").symlink_to(secret)
    with pytest.raises(ReplyError, match="symbolic link"):
        writer.write(video, [replies.FileBlock("index.tsx", "tsx", "ok\n"), replies.FileBlock("data.ts", "ts", "x")])
    assert secret.read_text() == "keep me" and not video.entry.exists()


def test_a_file_where_a_folder_is_needed_is_refused(tmp_path: Path) -> None:
    video = _video(tmp_path)
    (video.folder / "scenes.ts").write_text("mine")
    with pytest.raises(ReplyError, match="not a folder"):
        writer.write(video, [replies.FileBlock("index.tsx", "tsx", "ok\n"), replies.FileBlock("scenes.ts/a.ts", "ts", "x")])
    with pytest.raises(ReplyError, match="also sent as a file"):
        writer.write(video, [replies.FileBlock("b.ts", "ts", "x"), replies.FileBlock("b.ts/c.ts", "ts", "y")])
    assert sorted(p.name for p in video.folder.iterdir()) == ["scenes.ts"]


def test_a_folder_or_fifo_in_the_place_of_a_file_is_refused(tmp_path: Path) -> None:
    import os

    video = _video(tmp_path)
    (video.folder / "dir.tsx").mkdir()
    os.mkfifo(video.folder / "pipe.ts")
    for path in ("dir.tsx", "pipe.ts"):
        with pytest.raises(ReplyError, match="special file"):
            writer.write(video, [replies.FileBlock("index.tsx", "tsx", "ok\n"), replies.FileBlock(path, "ts", "x")])
    assert not video.entry.exists()


# ------------------------------------------------------------ files sent to the model: no links

SECRET = "TOP-SECRET-MARK-91"


def _linked_video(tmp_path: Path):
    import os

    video = _video(tmp_path)
    video.entry.write_text("export default 1;\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "key.ts").write_text(SECRET)
    (video.folder / "data.ts").symlink_to(outside / "key.ts")
    (video.folder / "more").symlink_to(outside)
    (video.folder / "scenes").mkdir()
    (video.folder / "scenes" / "A.tsx").write_text("export const A = 1;\n")
    os.mkfifo(video.folder / "pipe.ts")
    return video


def test_files_for_the_model_skip_links_and_special_files(tmp_path: Path) -> None:
    video = _linked_video(tmp_path)
    files, skipped = history.sendable_files(video)
    assert sorted(files) == ["index.tsx", "scenes/A.tsx"]
    assert skipped == ["data.ts", "more", "pipe.ts"]
    assert SECRET not in "".join(files.values())


def test_history_keeps_no_linked_file(tmp_path: Path) -> None:
    video = _linked_video(tmp_path)
    version = history.record(video, "new", "x")
    assert sorted(version.files()) == ["index.tsx", "scenes/A.tsx"]
    kept = [p for p in version.folder.rglob("*") if p.is_file()]
    assert all(SECRET not in p.read_text(errors="replace") for p in kept)
    assert not [p for p in version.folder.rglob("*") if p.is_symlink()]


def test_an_error_excerpt_never_reads_through_a_link(tmp_path: Path) -> None:
    from vidgen.check import diagnostics

    video = _linked_video(tmp_path)
    error = diagnostics.make("typecheck", "bad", video, file=video.folder / "data.ts", line=1)
    assert error.excerpt is None and SECRET not in json.dumps(error.to_dict())
    fine = diagnostics.make("typecheck", "bad", video, file=video.entry, line=1)
    assert fine.excerpt is not None and "export default 1" in fine.excerpt


# ------------------------------------------------------------ the shape flags and the real config


def test_a_commented_out_config_is_not_the_one_rewritten(tmp_path: Path) -> None:
    video = _video(tmp_path)
    video.entry.write_text(
        "// export const config = {durationInFrames: 30, fps: 30, width: 480, height: 270};\n"
        "/* export const config = {width: 480, height: 270}; */\n"
        "const note = 'export const config = {width: 480}';\n"
        "export const config = {durationInFrames: 30, fps: 30, width: 480, height: 270}; // the real one\n"
    )
    assert constraints.enforce(video.entry, constraints.build(None, None, "320x180", None, Limits())) is None
    lines = video.entry.read_text().splitlines()
    assert lines[0].endswith("width: 480, height: 270};") and "width: 480" in lines[1] and "width: 480" in lines[2]
    assert lines[3] == "export const config = {durationInFrames: 30, fps: 30, width: 320, height: 180}; // the real one"


def test_the_exported_shape_is_checked_against_the_flags() -> None:
    wanted = constraints.build(1, 30, "320x180", None, Limits())
    assert wanted.mismatch(320, 180, 30, 30) is None
    message = wanted.mismatch(480, 270, 30, 30)
    assert message is not None and message.startswith("config says 480x270 but --size asks 320x180: set width: 320, height: 180")
    assert "export const config" in message
    message = wanted.mismatch(320, 180, 24, 24)
    assert message is not None and "--fps asks 30" in message and "durationInFrames: 30" in message


def test_a_huge_file_is_not_sent_but_history_keeps_it(tmp_path: Path) -> None:
    from vidgen.workspace import tree

    video = _video(tmp_path)
    video.entry.write_text("export default 1;\n")
    (video.folder / "data.json").write_text("[" + "0," * tree.SEND_BYTES + "0]")
    files, skipped = history.sendable_files(video)
    assert sorted(files) == ["index.tsx"] and skipped == ["data.json"]
    assert sorted(history.record(video, "new", "x").files()) == ["data.json", "index.tsx"]


def test_a_reply_is_summarised_by_its_files_and_its_own_words() -> None:
    before = {"index.tsx": "a\nb\nc\n", "scenes/Intro.ts": "export const b = 2;\n"}
    reply = (
        "name: city-tour\nMade the title **bigger**\nand slower.\n\n```tsx index.tsx\na\nB\nc\nd\n```\n"
        "```ts scenes/Intro.ts\nexport const b = 2;\n```\n```ts scenes/Outro.ts\nx\ny\n```\nTrailing words.\n"
    )
    summary = replies.summary(reply, "demo", before)
    assert summary["note"] == "Made the title **bigger** and slower."  # the prose before the files, the name line left out
    assert summary["problem"] is None
    assert summary["files"] == [
        {"path": "index.tsx", "lines": 4, "change": "changed", "added": 2, "removed": 1},
        {"path": "scenes/Intro.ts", "lines": 1, "change": "same", "added": 0, "removed": 0},
        {"path": "scenes/Outro.ts", "lines": 2, "change": "new", "added": 2, "removed": 0},
    ]
    prose = replies.summary("word " * 200, "demo", before)
    assert prose["files"] == [] and "no code blocks" in prose["problem"]
    assert len(prose["note"]) == replies.NOTE_CHARS and prose["note"].endswith("…")
