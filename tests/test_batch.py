"""`vidgen batch`: reading prompt files, and whole batches against a scripted model on 127.0.0.1."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from vidgen.batch import file as batchfile
from vidgen.batch.manifest import Manifest
from vidgen.errors import UsageError
from vidgen.model.scripted import Scripted, ScriptedModel
from vidgen.settings import Limits
from vidgen.workspace.project import Workspace

from .helpers import MOVING, VIDGEN, browser_executable, component, ctrl_c_reaches_it, model_flags, vidgen

GOOD = f"Done.\n\n```tsx index.tsx\n{component(MOVING, frames=20)}```\n"
BROKEN = f"Done.\n\n```tsx index.tsx\n{component('return <AbsoluteFill style={{color: COLOUR}} />;', frames=20)}```\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_text_files_skip_comments_and_blank_lines(tmp_path: Path) -> None:
    items, problems = batchfile.read(write(tmp_path, "a.txt", "# ideas\n\na title card\n  # more\na bar chart\n"), Limits())
    assert [(i.line, i.prompt) for i in items] == [(3, "a title card"), (5, "a bar chart")] and problems == []


def test_jsonl_reports_malformed_lines_by_number(tmp_path: Path) -> None:
    text = '{"prompt": "one", "seconds": 2, "size": "640x360"}\n{not json\n{"name": "x"}\n{"prompt": "two", "fps": 0}\n{"prompt": "three", "colour": "red"}\n'
    items, problems = batchfile.read(write(tmp_path, "a.jsonl", text), Limits())
    assert [i.prompt for i in items] == ["one"]
    assert items[0].shape.width == 640 and items[0].shape.seconds == 2
    assert [(p.line, p.message) for p in problems] == [
        (2, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (3, "'prompt' is missing or empty"),
        (4, "fps 0 must be between 1 and 60"),
        (
            5,
            "unknown field 'colour': use aspect, assets, captions, fps, max_repairs, name, narrate, prompt, seconds, size, storyboard",
        ),
    ]


def test_yaml_and_csv(tmp_path: Path) -> None:
    text = "items:\n  - a plain idea\n  - prompt: with a size\n    size: 641x360\n  - prompt: vertical\n    aspect: '9:16'\n    name: tall-one\n"
    items, problems = batchfile.read(write(tmp_path, "a.yaml", text), Limits())
    assert [(i.line, i.prompt) for i in items] == [(2, "a plain idea"), (5, "vertical")]
    assert items[1].name == "tall-one" and items[1].shape.height == 1280
    assert [(p.line, p.message) for p in problems] == [(3, "size 641x360 must be even and positive: e.g. 640x360")]
    csv_text = "prompt,seconds,fps\nfirst,2,30\nsecond,abc,30\n,,\nthird,1,24,extra\n"
    items, problems = batchfile.read(write(tmp_path, "a.csv", csv_text), Limits())
    assert [i.prompt for i in items] == ["first"]
    assert [(p.line, p.message) for p in problems] == [
        (3, "'seconds' must be a number"),
        (5, "more cells than the header has columns"),
    ]


def test_a_jsonl_line_too_big_or_nested_too_deeply_is_skipped_alone(tmp_path: Path) -> None:
    text = (
        '{"prompt": "first"}\n'
        + "[" * 100_000
        + "\n"
        + json.dumps({"prompt": "x" * (128 * 1024)})
        + "\n"
        + '{"prompt": "last"}\n'
    )
    items, problems = batchfile.read(write(tmp_path, "deep.jsonl", text), Limits())
    assert [(i.line, i.prompt) for i in items] == [(1, "first"), (4, "last")]
    assert [(p.line, p.message) for p in problems] == [
        (2, "not valid JSON (nested too deeply)"),
        (3, "the line is over 128 KiB: an item is an idea and a few settings, shorten it"),
    ]


def test_a_csv_field_over_128_kib_skips_only_its_record(tmp_path: Path) -> None:
    """A quoted field's lines after the limit are part of it, never items of their own."""
    big = "y" * (128 * 1024 + 1)
    quoted = "\n".join(["an idea hidden in it,5"] * 7000)  # short lines, over 128 KiB together
    text = f'prompt,seconds\nfirst,2\n{big},3\n"{quoted}",4\nlast,5\n'
    items, problems = batchfile.read(write(tmp_path, "big.csv", text), Limits())
    assert [(i.line, i.prompt) for i in items] == [(2, "first"), (7004, "last")]
    message = "a field is over 128 KiB: an item is an idea and a few settings, shorten it"
    assert [(p.line, p.message) for p in problems] == [(3, message), (7003, message)]
    # A field of exactly 128 KiB is fine, as csv's own limit has it.
    items, problems = batchfile.read(write(tmp_path, "edge.csv", f"prompt\n{'z' * 128 * 1024}\n"), Limits())
    assert len(items) == 1 and problems == []
    items, problems = batchfile.read(write(tmp_path, "head.csv", f"prompt,{big}\nan idea\n"), Limits())
    assert items == [] and [(p.line, p.message) for p in problems] == [
        (1, "the header row has a field over 128 KiB: an item is an idea and a few settings, shorten it")
    ]


def test_yaml_nested_too_deeply_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    items, problems = batchfile.read(write(tmp_path, "deep.yaml", "[" * 5000 + "]" * 5000 + "\n"), Limits())
    assert items == [] and [(p.line, p.message) for p in problems] == [(1, "not valid YAML (nested too deeply)")]


IDEAS = "a title card\na bar chart\n"


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("a.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "is binary (it has NUL bytes)"),
        ("a.txt", b"an idea\n\x00\x01\x02 more\n", "is binary (it has NUL bytes)"),
        ("a.txt", "café au lait\n".encode("latin-1"), "is not UTF-8 text (bad byte at offset 3): save it as UTF-8"),
        ("a.txt", IDEAS.encode("utf-16"), "is UTF-16 text: save it as UTF-8"),  # with its byte order mark
        ("a.txt", IDEAS.encode("utf-16-be"), "is UTF-16 text: save it as UTF-8"),  # without one: NUL-interleaved
        ("a.txt", IDEAS.encode("utf-16-le"), "is UTF-16 text: save it as UTF-8"),
        ("a.txt", IDEAS.encode("utf-32"), "is UTF-32 text: save it as UTF-8"),
        ("a.jsonl", '{"prompt": "an idea"}\n'.encode("utf-16"), "is UTF-16 text"),
    ],
)
def test_a_batch_file_that_is_not_utf8_text_is_refused_whole(tmp_path: Path, name: str, data: bytes, fragment: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UsageError) as caught:
        batchfile.read(path, Limits())
    message = str(caught.value)
    assert message.startswith(f"batch file {path} ") and fragment in message and "\n" not in message
    assert path.read_bytes() == data


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_idea(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbf" + IDEAS.replace("\n", "\r\n").encode())
    items, problems = batchfile.read(path, Limits())
    assert [i.prompt for i in items] == ["a title card", "a bar chart"] and problems == []
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbfprompt,seconds\r\nfirst,2\r\n")  # as Excel saves a CSV
    items, problems = batchfile.read(path, Limits())
    assert [(i.line, i.prompt) for i in items] == [(2, "first")] and problems == []


@pytest.mark.parametrize(("name", "text", "fragment"), [("a.doc", "x", "unknown extension"), ("a.txt", "\n# only\n", "no items")])
def test_files_that_cannot_be_read(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        batchfile.read(write(tmp_path, name, text), Limits())
    with pytest.raises(UsageError, match="does not exist"):
        batchfile.read(tmp_path / "missing.txt", Limits())


def test_same_names_become_unique(tmp_path: Path) -> None:
    from vidgen.batch.runner import plan

    (tmp_path / "package.json").write_text("{}")
    ws = Workspace(tmp_path)
    (tmp_path / "src" / "videos" / "mine").mkdir(parents=True)  # the user's own video
    items, _ = batchfile.read(
        write(
            tmp_path,
            "a.jsonl",
            '{"prompt": "a", "name": "dup"}\n{"prompt": "b", "name": "dup"}\n{"prompt": "c", "name": "mine"}\n',
        ),
        Limits(),
    )
    planned = plan(ws, items, Manifest(tmp_path / "m.json", tmp_path / "a.jsonl"), resume=False, retry_failed=False)
    assert [name for _item, name in planned.run] == ["dup", "dup-2", "mine-2"]
    assert len(planned.renamed) == 2


def mixed_script() -> tuple[callable, dict]:
    seen: dict[str, int] = {}

    def script(body: dict) -> Scripted:
        idea = body["messages"][1]["content"]
        repairing = len(body["messages"]) > 2
        key = next(k for k in ("good", "repairable", "hopeless", "limited", "extra") if k in idea)
        seen[key] = seen.get(key, 0) + 1
        if key == "hopeless":
            return Scripted(BROKEN)
        if key == "repairable":
            return Scripted(GOOD if repairing else BROKEN)
        if key == "limited" and seen[key] == 1:
            return Scripted(status=429, error_code="1302", error_message="too many requests", retry_after="0")
        return Scripted(GOOD)

    return script, seen


MIXED = (
    '{"prompt": "a good square", "name": "b-good"}\n'
    '{"prompt": "a repairable square", "name": "b-repairable"}\n'
    '{"prompt": "a hopeless square", "name": "b-hopeless", "max_repairs": 1}\n'
    '{"prompt": "a rate limited square", "name": "b-limited"}\n'
)


@pytest.mark.render
def test_a_mixed_batch_then_resume(workspace, tmp_path: Path) -> None:
    prompts = write(tmp_path, "mixed.jsonl", MIXED)
    script, seen = mixed_script()
    with ScriptedModel(script) as server:
        done = vidgen(
            "batch",
            str(prompts),
            "--jobs",
            "3",
            "--json",
            *model_flags(server),
            cwd=workspace.root,
            env={"VIDGEN_MODEL_RETRIES": "3"},
        )
    assert done.returncode == 1, done.stderr
    payload = json.loads(done.stdout)
    status = {item["name"]: item["status"] for item in payload["items"]}
    assert status == {"b-good": "rendered", "b-repairable": "rendered", "b-hopeless": "failed", "b-limited": "rendered"}
    assert (payload["rendered"], payload["failed"]) == (3, 1)
    hopeless = next(i for i in payload["items"] if i["name"] == "b-hopeless")
    assert hopeless["error"]["stage"] == "typecheck" and len(hopeless["attempts"]) == 2
    assert seen == {"good": 1, "repairable": 2, "hopeless": 2, "limited": 2}
    assert payload["usage"]["prompt"] == 1200 * 6
    card = payload["scorecard"]
    assert (card["items"], card["first_try"], card["first_try_rate"], card["mean_turns"]) == (4, 2, 0.5, 1.5)
    assert card["repairs_by_stage"] == {"typecheck": 3}
    assert "first try 2/4 (50%), 1.5 model turns on average; failed turns by stage: typecheck 3" in done.stderr
    for item in payload["items"]:
        if item["status"] == "rendered":
            assert (workspace.root / item["output"]).exists()

    # The report, in out/ with its path printed, links each MP4 relative to itself; opened from disk in a real browser.
    report = next(workspace.out_dir.glob("mixed-*.report.html"))
    assert f"report {report.relative_to(workspace.root)}" in done.stderr or str(report) in done.stderr
    page = report.read_text()
    assert page.count('class="card"') == 4 and "data:image/gif;base64," in page and "b-hopeless" in page
    links = re.findall(r'class="open" href="([^"]+)"', page)
    assert sorted(links) == ["b-good.mp4", "b-limited.mp4", "b-repairable.mp4"]
    assert all((report.parent / link).is_file() for link in links)
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser_executable(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                "--window-size=1280,900",
                report.as_uri(),
            ],
            capture_output=True,
            timeout=60,
        )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    # Resume: the rendered items ask the model nothing; only the failed one runs again.
    script, seen = mixed_script()
    with ScriptedModel(script) as server:
        again = vidgen("batch", str(prompts), "--resume", "--json", *model_flags(server), cwd=workspace.root)
    assert again.returncode == 1
    assert seen == {"hopeless": 2}
    refused = vidgen("batch", str(prompts), cwd=workspace.root)
    assert refused.returncode == 2 and "--resume" in refused.stderr


@pytest.mark.render
def test_an_interrupted_batch_resumes_with_only_what_is_missing(workspace, tmp_path: Path) -> None:
    prompts = write(tmp_path, "slow.txt", "a good one\na good two\na good three\n")

    def slow(body: dict) -> Scripted:
        return Scripted(GOOD, delay_s=1.0)

    with ScriptedModel(slow) as server:
        process = subprocess.Popen(
            [*VIDGEN, "batch", str(prompts), "--jobs", "1", *model_flags(server)],
            cwd=workspace.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=ctrl_c_reaches_it,
        )
        manifest_glob = workspace.state_dir / "batch"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            manifests = list(manifest_glob.glob("slow-*.json"))
            if manifests and '"rendered"' in manifests[0].read_text():
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    entries = json.loads(manifests[0].read_text())["items"].values()
    rendered = {e["prompt"] for e in entries if e["status"] == "rendered"}
    assert 1 <= len(rendered) < 3
    asked: list[str] = []

    def counting(body: dict) -> Scripted:
        asked.append(body["messages"][1]["content"])
        return Scripted(GOOD)

    with ScriptedModel(counting) as server:
        done = vidgen("batch", str(prompts), "--resume", *model_flags(server), cwd=workspace.root)
    assert done.returncode == 0, done.stderr
    assert len(asked) == 3 - len(rendered)
    assert not any(prompt in message for prompt in rendered for message in asked)


@pytest.mark.render
def test_an_auth_error_stops_the_batch_at_once(workspace, tmp_path: Path) -> None:
    prompts = write(tmp_path, "denied.txt", "\n".join(f"a denied idea {n}" for n in range(6)) + "\n")
    with ScriptedModel(lambda body: Scripted(status=401, error_message="bad key")) as server:
        done = vidgen(
            "batch",
            str(prompts),
            "--jobs",
            "2",
            "--json",
            *model_flags(server),
            cwd=workspace.root,
        )
    assert done.returncode == 3, done.stderr
    assert len(server.requests) <= 2
    assert "refused the API key" in done.stderr
    payload = json.loads(done.stdout)
    assert payload["failed"] == 0 and payload["rendered"] == 0
    assert (payload["status"], payload["exit_code"]) == ("error", 3) and "refused the API key" in payload["error"]["message"]


def test_strict_refuses_a_file_with_a_bad_line(workspace, tmp_path: Path) -> None:
    prompts = write(tmp_path, "strict.jsonl", '{"prompt": "fine"}\n{"prompt": "odd", "size": "641x360"}\n')
    done = vidgen("batch", str(prompts), "--strict", cwd=workspace.root)
    assert done.returncode == 2 and "line 2" in done.stderr and "even" in done.stderr


@pytest.mark.render
def test_a_full_disk_stops_the_batch_and_resume_continues(workspace, tmp_path: Path) -> None:
    out = workspace.out_dir  # a tiny disk mounted over it; what was there shows again afterwards
    # Room for one item's MP4 (5 KB: two 4k pages), not for two; its previews, made after it, fail alone.
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(out)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        prompts = write(tmp_path, "full.txt", "a full one\na full two\na full three\n")
        with ScriptedModel(lambda body: Scripted(GOOD)) as server:
            common = ["--jobs", "1", *model_flags(server)]
            done = vidgen("batch", str(prompts), *common, cwd=workspace.root)
            assert done.returncode == 1, done.stderr
            assert "disk is full" in done.stderr and "--resume" in done.stderr and "Traceback" not in done.stderr
            manifest = next(workspace.state_dir.glob("batch/full-*.json"))
            entries = list(json.loads(manifest.read_text())["items"].values())
            statuses = [e["status"] for e in entries]
            assert statuses[0] == "rendered" and "rendered" not in statuses[1:]
            assert any("previews: full-one: " in w and "disk is full" in w for w in entries[0]["warnings"])
            assert not [p for p in out.iterdir() if ".partial" in p.name]
            asked = len(server.requests)
            subprocess.run(["mount", "-o", "remount,size=20m", str(out)], check=True)
            again = vidgen("batch", str(prompts), "--resume", *common, cwd=workspace.root)
        assert again.returncode == 0, again.stderr
        assert len(server.requests) - asked == 2
    finally:
        subprocess.run(["umount", str(out)], check=False)


def test_the_shipped_ideas_file_reads_as_twenty_items() -> None:
    from vidgen.workspace import resources

    items, problems = batchfile.read(resources.prompts_dir() / "examples" / "ideas.txt", Limits())
    assert (len(items), problems) == (20, [])


def test_items_may_narrate_and_caption(tmp_path: Path) -> None:
    text = (
        '{"prompt": "a narrated explainer", "narrate": true}\n'
        '{"prompt": "captioned", "captions": "yes"}\n'
        '{"prompt": "odd", "narrate": [1]}\n'
    )
    items, problems = batchfile.read(write(tmp_path, "sound.jsonl", text), Limits())
    assert [(i.narrate, i.captions) for i in items] == [(True, False), (True, True)]
    assert [str(p) for p in problems] == ["line 3: 'narrate' must be true or false"]
