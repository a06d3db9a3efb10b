"""`vidgen mcp` as a coding agent meets it: the SDK's own client over stdio, a real server subprocess, real renders."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, ImageContent

from vidgen.media import probe as media
from vidgen.model.scripted import Scripted, ScriptedModel

from .helpers import MOVING, component, group_members, service_groups, vidgen

TOOLS = {"list_videos", "check", "render", "stills", "new_video", "edit_video", "history", "undo", "redo", "diff", "api_sheet"}


@asynccontextmanager
async def connected(workspace, *flags: str) -> AsyncIterator[Client]:
    """A `vidgen mcp` subprocess in the workspace, and the SDK's client talking to it over stdio."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "vidgen", "mcp", *flags],
        cwd=str(workspace.root),
        # Frames get the default 30 s here (the suite's workspace says 8): seven test runs may share two cores.
        env={"VIDGEN_DEBUG": "1", "VIDGEN_FRAME_TIMEOUT": "30"},
    )
    async with Client(params, read_timeout_seconds=300) as client:
        yield client


def run(test: Callable[[], Awaitable[None]]) -> None:
    anyio.run(test)


def server_pid() -> int:
    """The `vidgen mcp` process this test started (a child of pytest)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if parent == os.getpid() and b"mcp" in cmdline and b"vidgen" in cmdline:
            return int(entry.name)
    raise AssertionError("no vidgen mcp process found")


def payload(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None, result.content
    text = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert text == result.structured_content  # the text block and the structured content agree
    return result.structured_content


def error_of(result: CallToolResult) -> str:
    assert result.is_error, result.content
    data = payload(result)
    assert data["status"] == "error"
    return data["error"]["message"]


def test_lists_tools_and_answers_hostile_arguments_with_tool_errors(workspace) -> None:
    async def main() -> None:
        async with connected(workspace) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert set(tools) == TOOLS
            assert tools["stills"].input_schema["properties"]["frames"]["items"]["type"] == "integer"

            message = error_of(await client.call_tool("check", {"name": "../../etc"}))
            assert "invalid video name" in message and "lowercase letters" in message
            assert "no video 'nope'" in error_of(await client.call_tool("render", {"name": "nope"}))
            message = error_of(await client.call_tool("stills", {"name": "hello", "frames": [-1]}))
            assert "out of range" in message and "from 0" in message
            message = error_of(await client.call_tool("stills", {"name": "hello", "frames": ["x"]}))
            assert "not a frame number" in message
            assert "not a frame number" in error_of(await client.call_tool("render", {"name": "hello", "still": 1.5}))
            assert "at most 24" in error_of(await client.call_tool("stills", {"name": "hello", "frames": list(range(100))}))
            message = error_of(await client.call_tool("new_video", {"idea": "a square", "size": "100000x100000"}))
            assert "over the limit" in message
            assert "not one of" in error_of(await client.call_tool("render", {"name": "hello", "codec": "avi"}))
            assert "idea is empty" in error_of(await client.call_tool("new_video", {"idea": "  "}))
            # An argument the SDK's schema check refuses: vidgen's one-line usage error, not a crash or a report.
            assert error_of(await client.call_tool("check", {"name": 5})).startswith("check: the argument 'name' is wrong")
            missing = await client.call_tool("check", {})
            assert error_of(missing) == "check: the argument 'name' is missing"
            assert payload(missing)["error"]["code"] == "usage" and payload(missing)["exit_code"] == 2

            # The server keeps answering, and wrote nothing outside the workspace's own folders.
            listed = payload(await client.call_tool("list_videos", {}))
            assert listed["status"] == "ok" and "hello" in [v["name"] for v in listed["videos"]]
            sheet = payload(await client.call_tool("api_sheet", {}))["api_sheet"]
            assert sheet == (workspace.root / "API.md").read_text()
            resource = await client.read_resource("vidgen://api-sheet")
            assert resource.contents[0].text == sheet  # type: ignore[union-attr]
            files = await client.read_resource("vidgen://videos/hello/files")
            assert "index.tsx" in json.loads(files.contents[0].text)  # type: ignore[union-attr]
        assert not (workspace.root.parent / "etc").exists()

    run(main)


@pytest.mark.render
def test_renders_hello_with_progress_and_checks_a_broken_video(workspace, make_video) -> None:
    make_video("mcp-broken", {"index.tsx": component("const n: number = 'x';\nreturn <AbsoluteFill />;")})
    progress: list[str] = []
    values: list[tuple[float, float | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")
        values.append((value, total))

    async def main() -> None:
        async with connected(workspace) as client:
            rendered = await client.call_tool("render", {"name": "hello"}, progress_callback=on_progress)
            data = payload(rendered)
            assert not rendered.is_error and data["status"] == "ok" and data["error"] is None
            output = Path(data["output"])
            assert output == workspace.out_dir / "hello.mp4"
            probed = media.probe(output, workspace)
            assert (probed.width, probed.height) == (data["width"], data["height"])
            assert abs(probed.duration_s - data["duration_s"]) < 0.1

            checked = await client.call_tool("check", {"name": "mcp-broken"})
            assert checked.is_error and payload(checked)["status"] == "failed"  # as `vidgen check --json` says it
            error = payload(checked)["error"]
            assert (error["stage"], error["file"], error["line"]) == ("typecheck", "index.tsx", 8)
            assert error["excerpt"]
            last = await client.read_resource("vidgen://videos/mcp-broken/error")
            assert json.loads(last.contents[0].text)["state"]["stage"] == "typecheck"  # type: ignore[union-attr]

    run(main)
    # (typecheck may be skipped: hello passed it unchanged in an earlier test)
    assert "stage bundle" in progress and "stage render" in progress
    frames = [m for m in progress if m.startswith("render: ")]
    assert frames and "frames rendered" in frames[-1]
    # A render's progress is a share of 100 that only grows, and reaches most of it by the last frame.
    rendered_values = values[: progress.index(frames[-1]) + 1]
    assert {total for _, total in rendered_values} == {100.0}
    assert all(a < b for (a, _), (b, _) in zip(rendered_values, rendered_values[1:], strict=False))
    assert 70 <= rendered_values[-1][0] <= 100


@pytest.mark.render
def test_stills_come_back_as_images(workspace, make_video) -> None:
    make_video("mcp-stills", {"index.tsx": component(MOVING)})

    async def main() -> None:
        async with connected(workspace) as client:
            result = await client.call_tool("stills", {"name": "mcp-stills", "frames": [0, 15, 29]})
            data = payload(result)
            assert not result.is_error and [s["frame"] for s in data["stills"]] == [0, 15, 29]
            images = [block for block in result.content if isinstance(block, ImageContent)]
            assert len(images) == 3 and data["sheet"] is None  # never rendered: no contact sheet yet
            first, last = (base64.b64decode(images[i].data) for i in (0, 2))
            assert images[0].mime_type == "image/jpeg" and first[:2] == b"\xff\xd8" and first != last

            beyond = await client.call_tool("stills", {"name": "mcp-stills", "frames": [40]})
            assert "frame 40 is past the last frame" in error_of(beyond) and payload(beyond)["error"]["stage"] == "stills"

            await client.call_tool("render", {"name": "mcp-stills"})
            again = await client.call_tool("stills", {"name": "mcp-stills"})
            shown = [block for block in again.content if isinstance(block, ImageContent)]
            assert payload(again)["sheet"] and shown[-1].mime_type == "image/png"  # the sheet, after the stills
            assert len(shown) == len(payload(again)["stills"]) + 1

    run(main)


@pytest.mark.render
def test_new_video_runs_the_model_loop_against_the_scripted_model(workspace, fresh) -> None:
    video = fresh("mcp-new")
    broken = component("return <AbsoluteFill style={{backgroundColor: COLOUR}} />;")
    fixed = component(MOVING, frames=45)

    def script(body: dict[str, Any]) -> Scripted:
        # The first turn writes a bug; every later one the fix (so a failure shows its stage, not "no replies left").
        first = len(body["messages"]) <= 2
        return Scripted(f"```tsx index.tsx\n{broken}```\n" if first else f"Fixed.\n\n```tsx index.tsx\n{fixed}```\n")

    progress: list[str] = []

    async def on_progress(_value: float, _total: float | None, message: str | None) -> None:
        progress.append(message or "")

    with ScriptedModel(script) as model:

        async def main() -> None:
            async with connected(workspace, "--base-url", model.base_url, "--provider", "ollama") as client:
                arguments = {"idea": "a square that moves", "name": "mcp-new", "seconds": 1, "size": "640x360"}
                result = await client.call_tool("new_video", arguments, progress_callback=on_progress)
                data = payload(result)
                assert not result.is_error and data["status"] == "ok", data
                assert [a["stage"] for a in data["attempts"]] == ["typecheck", None]
                assert (data["width"], data["height"], data["frames"]) == (640, 360, 30)  # 1 s, as asked
                assert Path(data["output"]).is_file()
                versions = payload(await client.call_tool("history", {"name": "mcp-new"}))["versions"]
                assert [v["kind"] for v in versions] == ["new", "repair"]
                # The same rows as `vidgen history --json`: which is current, which has its video kept.
                assert [(v["number"], v["current"], v["video"]) for v in versions] == [(1, False, False), (2, True, True)]
                cli = json.loads(vidgen("history", "mcp-new", "--json", cwd=workspace.root).stdout)
                assert cli["versions"] == versions
                assert "COLOUR" in payload(await client.call_tool("diff", {"name": "mcp-new"}))["diff"]
                undone = payload(await client.call_tool("undo", {"name": "mcp-new"}))
                assert (undone["status"], undone["version"], undone["video"]) == ("ok", 1, None)  # v1 never rendered
                assert "COLOUR" in video.entry.read_text()  # the first (broken) version is back
                redone = payload(await client.call_tool("redo", {"name": "mcp-new"}))
                assert (redone["version"], Path(redone["video"]).name) == (2, "mcp-new.mp4")  # v2's kept render, no re-render
                assert "instruction is empty" in error_of(
                    await client.call_tool("edit_video", {"name": "mcp-new", "instruction": ""})
                )

        run(main)
        assert len(model.code_requests) == 2
        assert "COLOUR" in model.code_requests[1]["body"]["messages"][-1]["content"]  # the error went back
    assert video.entry.is_file()
    assert "model: new (turn 1)" in progress and "model: repair (turn 2)" in progress


@pytest.mark.render
def test_a_cancelled_render_stops_and_leaves_no_process(workspace, make_video) -> None:
    make_video("mcp-cancel", {"index.tsx": component(MOVING, frames=240)})
    output = workspace.out_dir / "mcp-cancel.mp4"
    output.unlink(missing_ok=True)
    groups: set[int] = set()

    async def main() -> None:
        async with connected(workspace) as client:
            rendering = anyio.Event()

            async def on_progress(_value: float, _total: float | None, message: str | None) -> None:
                if (message or "").startswith("render: "):
                    rendering.set()

            async with anyio.create_task_group() as tasks:

                async def render() -> None:
                    await client.call_tool("render", {"name": "mcp-cancel"}, progress_callback=on_progress)

                tasks.start_soon(render)
                with anyio.fail_after(240):
                    await rendering.wait()
                groups.update(service_groups(server_pid()))
                tasks.cancel_scope.cancel()

            # The service stopped that render: the next call gets the render slot at once and answers.
            started = time.monotonic()
            with anyio.fail_after(120):
                checked = await client.call_tool("check", {"name": "hello"})
            assert not checked.is_error, checked.content
            assert time.monotonic() - started < 60
            assert payload(await client.call_tool("list_videos", {}))["status"] == "ok"

    run(main)
    assert groups, "the render service was not found"
    for pgid in groups:
        assert group_members(pgid) == set(), "the render service outlived the server"
    assert not output.exists()
    assert not [p for p in workspace.out_dir.iterdir() if ".partial" in p.name]


@pytest.mark.render
def test_stdout_carries_only_the_protocol(workspace) -> None:
    """Raw JSON-RPC over the pipes: every line on stdout, through a whole check, is a message; SIGTERM leaves nothing."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vidgen", "mcp"],
        cwd=workspace.root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    client = {"name": "raw", "version": "0"}
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": client},
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "check", "arguments": {"name": "hello"}}},
    ]
    for message in messages:
        process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()
    lines = []
    for line in process.stdout:
        lines.append(json.loads(line))  # anything but a JSON-RPC message here would break the client
        if lines[-1].get("id") == 2:
            break
    # A client that gives up on a clean exit sends SIGTERM: the render service (its own process group) goes too.
    groups = service_groups(process.pid)
    assert groups
    process.send_signal(signal.SIGTERM)
    rest = process.stdout.read()
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert rest.strip() == ""
    for pgid in groups:
        assert group_members(pgid) == set(), "the render service outlived a SIGTERM"
    answer = lines[-1]["result"]
    assert answer["structuredContent"]["status"] == "ok" and not answer.get("isError")
    assert "vidgen mcp: serving" in process.stderr.read()  # the server's own log line goes to stderr


def test_doctor_checks_the_mcp_server(workspace) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vidgen", "doctor"], cwd=workspace.root, capture_output=True, text=True, timeout=180
    )
    assert any(line.startswith("ok   mcp server") and "MCP SDK 2." in line for line in done.stdout.splitlines()), done.stdout
