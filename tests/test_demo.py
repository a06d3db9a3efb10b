"""`vidgen demo`: the whole loop (create, error, repair, edit, a narrated video), reacting to what the loop asks
(new, repair, edit), not to how the prompts are worded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vidgen.agent import demo, prompts, story_demo
from vidgen.media import probe as media
from vidgen.workspace import history, resources, transcript
from vidgen.workspace.project import Workspace

from .helpers import VIDGEN, remove_video, vidgen

# Each rewording replaces the words the old demo matched on; the structure (file blocks, turns) stays.
REWORDED = {
    "create.j2": ('Make a new video named "{{ name }}".', 'Please produce a clip called "{{ name }}".'),
    "edit.j2": ('Change the video "{{ name }}" as asked:', 'Please revise the clip "{{ name }}" like this:'),
    "repair.j2": (
        "The video failed at the {{ error.stage }} stage. Fix the error below and reply with the whole corrected files.",
        "Something went wrong ({{ error.stage }}). Correct it and send the complete files again.",
    ),
}


def test_the_request_kind_comes_from_the_conversation_s_shape(tmp_path: Path) -> None:
    system = prompts.system(Workspace(tmp_path))
    create = prompts.create("clip", "a square", "")
    edit = prompts.edit("clip", "bigger", {"index.tsx": "export default 1;\n"}, "")
    answer = {"role": "assistant", "content": "```tsx index.tsx\nx\n```"}
    repair = {"role": "user", "content": "anything at all"}
    assert demo.request_kind([system, create]) == ("new", False)
    assert demo.request_kind([system, create, answer, repair]) == ("new", True)
    assert demo.request_kind([system, edit]) == ("edit", False)
    assert demo.request_kind([system, edit, answer, repair]) == ("edit", True)


@pytest.mark.render
def test_the_demo_works_with_reworded_prompt_templates(workspace, tmp_path: Path) -> None:
    # A copy of vidgen (the package demo.py is in: vidgen/agent/demo.py) whose templates say the same things in other words.
    copy = tmp_path / "copy"
    shutil.copytree(Path(demo.__file__).parents[1], copy / "vidgen", ignore=shutil.ignore_patterns("__pycache__", "_data"))
    (copy / "remotion-template").symlink_to(resources.template_dir())
    shutil.copytree(resources.prompts_dir(), copy / "prompts")
    for name, (old, new) in REWORDED.items():
        path = copy / "prompts" / name
        text = path.read_text()
        assert old in text, f"{name} changed: update this test's rewording"
        path.write_text(text.replace(old, new))
    env = {**os.environ, "PYTHONPATH": str(copy), "VIDGEN_API_KEY": ""}
    # Quiet: the result on stdout, and nothing on stderr when all went well (issue 23, item 10).
    done = subprocess.run([*VIDGEN, "demo", "-q"], cwd=workspace.root, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    output, narrated, storied = (Path(line) for line in done.stdout.strip().splitlines()[-3:])
    name = output.stem
    video = workspace.video(name)
    try:
        assert output.is_file() and output.suffix == ".mp4"
        assert [v.meta["kind"] for v in history.versions(video)] == ["new", "repair", "edit"]
        # It ends with a narrated, captioned video, spoken offline, its captions beside it.
        assert media.sound(narrated, workspace).codec == "aac"
        assert "A scripted model wrote this." in narrated.with_suffix(".srt").read_text().replace("\n", " ")
        sent = [entry["request"]["content"] for entry in transcript.read(video)]
        assert sent[0].startswith("Please produce a clip") and sent[1].startswith("Something went wrong (typecheck)")
        assert sent[2].startswith("Please revise the clip")  # the reworded copy was the one that ran
        assert "made by a scripted model" in video.entry.read_text()
        # The narrated video is current at birth: its regenerated narration.ts is vidgen's, no change and no hand edit.
        listed = json.loads(vidgen("list", "--json", cwd=workspace.root).stdout)
        row = next(r for r in listed["videos"] if r["name"] == narrated.stem)
        assert row["outdated"] is False and row["state"].startswith("rendered at"), row
        assert "narration.ts" not in vidgen("diff", narrated.stem, cwd=workspace.root).stdout
        assert "hand-edit" not in [v.meta["kind"] for v in history.versions(workspace.video(narrated.stem))]
        # It ends with a storyboarded video: four narrated scenes over 30 s, the broken one repaired alone.
        boarded = workspace.video(storied.stem)
        assert media.probe(storied, workspace).duration_s >= 30
        asked = [entry["kind"] for entry in transcript.read(boarded)]
        assert sorted(asked) == sorted(["storyboard", *(f"scene {s}" for s in story_demo.DEMO_LINES), "scene scenes repair"])
        assert [v.meta["kind"] for v in history.versions(boarded)] == ["new", "repair"]
    finally:
        remove_video(workspace, name)
        remove_video(workspace, narrated.stem)
        remove_video(workspace, storied.stem)
