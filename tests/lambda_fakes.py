"""What the Remotion Lambda tests stand on instead of AWS (this machine has no network): a real `npx` program on PATH
that records its argv and answers as Remotion's CLI would, a workspace that has the Lambda CLI "installed", and
Lambda's answers replayed with botocore's Stubber beside S3 on moto (the fixtures `npx`, `aws` and `stub` in conftest)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws
from remotion_lambda import Privacy, RemotionClient, RenderMediaParams

from vidgen.cloud import lambda_render
from vidgen.media.probe import ffmpeg_path
from vidgen.workspace import project as workspace_module

VERSION = "4.0.527"
FUNCTION = "remotion-render-4-0-527-mem2048mb-disk2048mb-120sec"
SERVE_URL = "https://remotionlambda-useast1-abcdefghij.s3.us-east-1.amazonaws.com/sites/vidgen/index.html"

# The program: argv appended to calls.jsonl, then the answer `<kind>-<verb>` has in answers/ (stdout, stderr, exit).
_NPX = """#!{python}
import json, os, sys
folder = os.environ["FAKE_NPX_DIR"]
with open(os.path.join(folder, "calls.jsonl"), "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
words = [w for w in sys.argv[1:] if not w.startswith("-")]
name = "-".join(words[2:4])  # remotion lambda <kind> <verb>
answer = os.path.join(folder, "answers", name + ".json")
found = json.load(open(answer)) if os.path.exists(answer) else {{}}
sys.stdout.write(found.get("stdout", ""))
sys.stderr.write(found.get("stderr", ""))
sys.exit(found.get("exit", 0))
"""


class FakeNpx:
    """The fake `npx` in `folder`/bin: `answer()` sets what a subcommand prints, `calls()` what it was run with."""

    def __init__(self, folder: Path):
        self.folder = folder
        (folder / "bin").mkdir(parents=True, exist_ok=True)
        (folder / "answers").mkdir(exist_ok=True)
        program = folder / "bin" / "npx"
        program.write_text(_NPX.format(python=sys.executable))
        program.chmod(0o755)
        self.answer("functions-deploy", stdout=f"{FUNCTION}\n")
        self.answer("sites-create", stdout=f"Deployed to S3!\nServe URL: {SERVE_URL}\nSite Name: vidgen\n")

    def answer(self, command: str, stdout: str = "", stderr: str = "", exit: int = 0) -> None:
        (self.folder / "answers" / f"{command}.json").write_text(json.dumps({"stdout": stdout, "stderr": stderr, "exit": exit}))

    def calls(self) -> list[list[str]]:
        log = self.folder / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def env(self) -> dict[str, str]:
        return {"PATH": f"{self.folder / 'bin'}{os.pathsep}{os.environ['PATH']}", "FAKE_NPX_DIR": str(self.folder)}


def lambda_workspace(root: Path, toml: str = "") -> workspace_module.Workspace:
    """A workspace without `npm ci` but with @remotion/lambda's package.json, as `npm install @remotion/lambda` leaves."""
    workspace = workspace_module.create(root, install=False)
    package = workspace.root / "node_modules" / "@remotion" / "lambda"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "@remotion/lambda", "version": VERSION}))
    if toml:
        (workspace.root / "vidgen.toml").write_text(toml)
    return workspace


# ---------------------------------------------------------------- AWS: Stubber for Lambda, moto for S3

REGION = "us-east-1"
BUCKET = "remotionlambda-useast1-abcdefghij"
COSTS = {"accruedSoFar": 0.00123, "displayCost": "$0.0012", "currency": "USD", "disclaimer": "an estimate"}


def aws_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[lambda_render.ClientSession]:
    """The AWS SDK's default chain finds these (as it would a user's); moto answers S3."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        session = lambda_render.ClientSession(region_name=REGION)
        session.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield session


def stubbed_lambda(aws: lambda_render.ClientSession) -> Iterator[Stubber]:
    with Stubber(aws.client("lambda", region_name=REGION)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def answer(body: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(body).encode()
    return {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(data), len(data))}


def clients_own_request(session: Any, **changes: Any) -> str:
    """The request as remotion-lambda's own construct_render_request makes it from the same values."""
    values: dict[str, Any] = {
        "composition": "hello",
        "codec": "h264",
        "input_props": {"title": "Hi"},
        "region": REGION,
        "frames_per_lambda": 20,
        "crf": 20,
        "scale": 1,
        "frame_range": [0, 29],
        "timeout_in_milliseconds": 30000,
        "privacy": Privacy.PRIVATE,
        "enable_cancellation": True,
        **changes,
    }
    client = RemotionClient(region=REGION, serve_url=SERVE_URL, function_name=FUNCTION, session=session)
    return str(client.construct_render_request(RenderMediaParams(**values), render_type="video-or-audio"))


def expect_start(stub: Stubber, session: Any, body: dict[str, Any] | None = None, **request: Any) -> None:
    """Lambda answers the start of a render sent as the client's own request of these values (`request`: changes)."""
    started = body or {"type": "success", "renderId": "r1", "bucketName": BUCKET}
    stub.add_response("invoke", answer(started), {"FunctionName": FUNCTION, "Payload": clients_own_request(session, **request)})


def expect_progress(stub: Stubber, session: Any, **body: Any) -> None:
    client = RemotionClient(region=REGION, serve_url=SERVE_URL, function_name=FUNCTION, session=session)
    payload = client.construct_render_progress_request("r1", BUCKET)
    progress = {"type": "success", "overallProgress": 0.0, "done": False, "errors": [], "costs": COSTS, **body}
    stub.add_response("invoke", answer(progress), {"FunctionName": FUNCTION, "Payload": payload})


def make_mp4(path: Path, width: int = 640, height: int = 360, frames: int = 30) -> bytes:
    """A small moving test picture, as Lambda would have rendered it."""
    size = f"testsrc2=size={width}x{height}:rate=30"
    command = [
        ffmpeg_path(),
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        size,
        "-frames:v",
        str(frames),
        "-pix_fmt",
        "yuv420p",
        str(path),
    ]
    subprocess.run(command, check=True, timeout=60)
    return path.read_bytes()
