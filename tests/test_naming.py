"""Video names: the model names a new video in its first reply (checked like any name), else the idea's
words that name its subject, never its length or style (issue 23, item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidgen.agent import prompts, replies
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.workspace import project as workspace_module

from .helpers import MOVING, component, model_flags, reply, vidgen

HASH_TABLE = "a 20-second narrated explainer of how a hash table finds a key"


@pytest.mark.parametrize(
    ("idea", "name"),
    [
        (HASH_TABLE, "hash-table-finds-key"),
        ("a countdown 5 4 3 2 1, then GO", "countdown-then-go"),
        ("a 1080x1920 vertical reel: three tips for better sleep", "reel-three-tips-better"),
        ("30 s animated intro", "video"),
    ],
)
def test_a_name_from_the_idea_names_its_subject(tmp_path: Path, idea: str, name: str) -> None:
    assert workspace_module.name_from_idea(workspace_module.Workspace(tmp_path), idea) == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("name: hash-table-lookup\n\n```tsx index.tsx\nx\n```", "hash-table-lookup"),
        ("**Name:** `Sales-Chart`\n```tsx index.tsx\nx\n```", "sales-chart"),
        ("Here it is.\n```tsx index.tsx\nname: inside-a-file\n```", None),  # only before the first file
        ("name: ../../etc/passwd\n```tsx index.tsx\nx\n```", None),
        ("name: two words\n```tsx index.tsx\nx\n```", None),
        ("```tsx index.tsx\nx\n```", None),
    ],
)
def test_the_name_line_of_a_reply(text: str, name: str | None) -> None:
    assert replies.video_name(text) == name


def test_the_prompt_asks_for_a_name_only_when_the_model_names_it() -> None:
    asked = prompts.create("hash-table-finds-key", HASH_TABLE, "", name_it=True)["content"]
    assert "start your reply with one line `name:" in asked and "hash-table-finds-key" not in asked
    given = prompts.create("hash-tables", HASH_TABLE, "")["content"]
    assert 'named "hash-tables"' in given and "name:" not in given


@pytest.mark.render
def test_new_takes_the_models_name_and_numbers_a_taken_one(workspace, fresh) -> None:
    for name in ("moving-square", "moving-square-2", "moving-square-3", "hash-table-finds-key"):
        fresh(name)  # removed after the test, whichever were made
    source = component(MOVING)
    taken = workspace.video("moving-square")
    taken.folder.mkdir(parents=True)
    taken.entry.write_text(source)
    answers = [Scripted("name: moving-square\n\n" + reply(source)), Scripted("name: Bad Name!\n\n" + reply(source))]
    names = []
    with ScriptedModel(answers) as server:
        for _ in range(2):
            done = vidgen("new", HASH_TABLE, "--no-render", "--json", *model_flags(server), cwd=workspace.root)
            assert done.returncode == 0, done.stderr
            names.append(json.loads(done.stdout)["name"])
    assert "start your reply with one line `name:" in server.requests[0]["body"]["messages"][-1]["content"]
    # Taken: numbered; not a name: the idea's words.
    assert names == ["moving-square-2", "hash-table-finds-key"]
    assert workspace.video("moving-square-2").entry.read_text() == source
    assert taken.entry.read_text() == source and not workspace.video("moving-square-3").folder.exists()
