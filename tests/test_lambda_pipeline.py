"""`render --on lambda` past the ladder: the site uploaded (the fake npx), the render (Stubber), the download (moto),
then the file verified like a local render and moved into place; and the command line's checks before any work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.helpers import assert_one_line_error, vidgen
from tests.lambda_fakes import BUCKET, REGION, FakeNpx, expect_progress, expect_start, lambda_workspace, make_mp4
from vidgen import settings as settings_module
from vidgen.batch.runner import describe_scorecard, lambda_cost
from vidgen.cloud import deployment, lambda_render
from vidgen.engine.messages import Composition
from vidgen.engine.session import Session
from vidgen.errors import UsageError
from vidgen.media.probe import ffprobe_path
from vidgen.render import ladder, on_lambda
from vidgen.render import video as render_video
from vidgen.render.options import RenderOptions
from vidgen.workspace.project import Workspace

TOML = '[lambda]\nframes_per_lambda = 20\n[render]\non = "lambda"\n'


@pytest.fixture
def ffprobe(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Verification reads the file with the ffprobe Remotion ships: the real workspace's (so these tests are `render`)."""
    monkeypatch.setenv("VIDGEN_FFPROBE", ffprobe_path(workspace))


@pytest.fixture
def deployed(tmp_path: Path, npx: FakeNpx) -> Workspace:
    workspace = lambda_workspace(tmp_path / "ws", TOML)
    deployment.deploy(workspace, settings_module.load(workspace.root).lambda_)
    return workspace


def render_on_lambda(workspace: Workspace, aws: Any, stub: Stubber, mp4: bytes) -> tuple[Any, list[tuple[str, dict]]]:
    """on_lambda.render for `hello` at 640x360, 30 frames, Lambda answering with `mp4`."""
    settings = settings_module.load(workspace.root)
    expect_start(stub, aws, input_props=None, crf=None, frame_range=None)
    expect_progress(stub, aws, done=True, overallProgress=1.0, framesRendered=30, outKey="renders/r1/out.mp4")
    aws.client("s3").put_object(Bucket=BUCKET, Key="renders/r1/out.mp4", Body=mp4)
    events: list[tuple[str, dict]] = []
    session = Session(workspace, settings, service=None)  # type: ignore[arg-type]  # Lambda renders: no local service
    target = workspace.out_dir / "hello.mp4"
    composition = Composition(640, 360, 30, 30)
    job = lambda_render.Job("hello", "h264", 30, int(settings.render.frame_timeout_s * 1000))
    assert on_lambda.job_for(workspace.video("hello"), composition, "h264", RenderOptions(), 30) == job
    found = on_lambda.render(
        session, workspace.video("hello"), composition, "h264", target, lambda *e: events.append(e), None, RenderOptions(), aws
    )
    return found, events


@pytest.fixture
def rig(ffprobe: None, deployed: Workspace, aws: lambda_render.ClientSession, stub: Stubber) -> tuple[Workspace, Any, Stubber]:
    """A deployed workspace, Lambda on the Stubber, S3 on moto, and Remotion's ffprobe for the verification."""
    return deployed, aws, stub


def test_a_render_on_lambda_uploads_the_site_and_verifies_the_file(rig: tuple, npx: FakeNpx, tmp_path: Path) -> None:
    deployed = rig[0]
    (error, cost), events = render_on_lambda(*rig, make_mp4(tmp_path / "made.mp4"))
    assert error is None and cost["usd"] == pytest.approx(0.00123)
    assert (deployed.out_dir / "hello.mp4").read_bytes() == (tmp_path / "made.mp4").read_bytes()
    assert npx.calls()[-1][3:6] == ["sites", "create", "src/index.ts"]  # the code as it is now, under the same name
    assert [data["stage"] for kind, data in events if kind == "stage"] == ["site", "render", "verify"]
    assert [data["renderedFrames"] for kind, data in events if kind == "progress"] == [30]


def test_a_file_lambda_rendered_wrong_fails_verification_and_is_not_kept(rig: tuple, tmp_path: Path) -> None:
    deployed = rig[0]
    (error, _cost), _events = render_on_lambda(*rig, make_mp4(tmp_path / "small.mp4", 320, 180))
    assert error is not None and error.stage == "verify" and "320" in error.message
    assert not (deployed.out_dir / "hello.mp4").exists()
    assert not list((deployed.state_dir).rglob("*.partial-*"))


def test_dry_run_prints_the_request_without_credentials(deployed: Workspace) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    env = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": secret}
    done = vidgen(
        "render", "hello", "--dry-run", "--frames", "0-9", "--props", '{"title": "x"}', "--json", cwd=deployed.root, env=env
    )
    assert done.returncode == 0, done.stderr
    request = json.loads(done.stdout)["request"]
    assert request["composition"] == "hello" and request["frameRange"] == [0, 9] and request["framesPerLambda"] == 20
    assert secret not in done.stdout and "AKIAIOSFODNN7EXAMPLE" not in done.stdout
    plain = vidgen("render", "hello", "--on", "lambda", "--dry-run", cwd=deployed.root, env=env)
    assert json.loads(plain.stdout)["serveUrl"].endswith("/sites/vidgen/index.html")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--on", "lambda"], "run `vidgen lambda deploy` first"),
        (["--on", "lambda", "--chunks", "2"], "[lambda] frames_per_lambda"),
        (["--on", "lambda", "--still", "3"], "--still draws one frame here"),
        (["--dry-run"], "add --on lambda"),
    ],
)
def test_what_a_render_on_lambda_cannot_take_is_refused_first(tmp_path: Path, args: list[str], fragment: str) -> None:
    workspace = lambda_workspace(tmp_path / "ws")
    assert_one_line_error(vidgen("render", "hello", *args, cwd=workspace.root), 2, fragment)


def test_a_batch_on_lambda_checks_the_deployment_before_any_model(tmp_path: Path) -> None:
    workspace = lambda_workspace(tmp_path / "ws", TOML)
    settings = settings_module.load(workspace.root)
    with pytest.raises(UsageError, match="run `vidgen lambda deploy` first"):
        on_lambda.preflight(settings, workspace)


def test_the_batch_scorecard_keeps_lambdas_cost() -> None:
    entries = [{"cost": {"usd": 0.0012}}, {"cost": {"usd": 0.0008}}, {"cost": None}, {"cost": {"usd": "x"}}]
    assert lambda_cost(entries) == pytest.approx(0.002)
    assert lambda_cost([{}]) is None
    card = {
        "items": 1,
        "first_try": 1,
        "first_try_rate": 1.0,
        "mean_turns": 1.0,
        "repairs_by_stage": {},
        "lambda_cost_usd": 0.002,
    }
    assert "Remotion Lambda cost $0.0020" in describe_scorecard(card)


def test_region_of_the_deploy_must_be_the_renders(deployed: Workspace) -> None:
    settings = settings_module.load(deployed.root)
    assert deployment.for_render(deployed, settings.lambda_).region == REGION
    moved = settings_module.with_lambda(settings, region="eu-west-1")
    with pytest.raises(UsageError, match="deployed in us-east-1, but \\[lambda\\] region is eu-west-1"):
        deployment.for_render(deployed, moved.lambda_)


def test_a_render_on_lambda_draws_its_stills_here_first() -> None:
    # A local render is its own pass over the frames; Lambda's is paid for, so a broken frame is found here.
    assert render_video.stills_before("lambda") is ladder.Stills.SAMPLE
    assert render_video.stills_before("local") is ladder.Stills.FAIL_FAST
