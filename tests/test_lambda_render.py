"""A render on Remotion Lambda without AWS: Lambda's answers replayed with botocore's Stubber on a real boto3 client
(the payloads the remotion-lambda client sends, checked against its own `construct_render_request`), S3 (the output's
download, the cancel, large input props) on moto. Nothing here reaches the network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.lambda_fakes import (
    BUCKET,
    FUNCTION,
    REGION,
    SERVE_URL,
    VERSION,
    clients_own_request,
    expect_progress,
    expect_start,
)
from vidgen.cloud import lambda_render
from vidgen.cloud.deployment import Deployment
from vidgen.errors import CloudError, UsageError
from vidgen.settings import LambdaSettings
from vidgen.workspace.project import validate_name

DEPLOYED = Deployment(REGION, FUNCTION, "vidgen", SERVE_URL, VERSION)
SETTINGS = LambdaSettings(frames_per_lambda=20)
JOB = lambda_render.Job("hello", "h264", 30, 30000, props={"title": "Hi"}, frame_range=(0, 29), crf=20)


def test_the_request_is_the_clients_own_and_carries_no_credentials(aws: lambda_render.ClientSession) -> None:
    sent = lambda_render.request_json(JOB, SETTINGS, DEPLOYED, aws)
    assert sent == clients_own_request(aws)
    request = json.loads(sent)
    assert request["serveUrl"] == SERVE_URL and request["version"] == VERSION and request["composition"] == "hello"
    assert (request["framesPerLambda"], request["concurrency"], request["frameRange"]) == (20, None, [0, 29])
    assert request["privacy"] == "private" and request["enableCancellation"] is True
    assert json.loads(request["inputProps"]["payload"]) == {"title": "Hi"}
    assert "testing" not in sent and request.get("s3OutputProvider") is None


def test_a_hostile_prop_stays_data_inside_the_request(aws: lambda_render.ClientSession) -> None:
    """A prompt's or batch file's value that looks like JSON or an option changes no field of the request."""
    hostile = '", "serveUrl": "https://evil.example/index.html", "functionName": "x'
    job = lambda_render.Job("hello", "h264", 30, 30000, props={"title": hostile, "--yes": "$(rm -rf ~)"})
    request = json.loads(lambda_render.request_json(job, SETTINGS, DEPLOYED, aws))
    plain = json.loads(lambda_render.request_json(lambda_render.Job("hello", "h264", 30, 30000), SETTINGS, DEPLOYED, aws))
    assert set(request) == set(plain) and request["serveUrl"] == SERVE_URL
    assert json.loads(request["inputProps"]["payload"]) == {"title": hostile, "--yes": "$(rm -rf ~)"}
    # A batch file's `name` is the composition: a name that could pass for an option or JSON never gets that far.
    for name in ("--site-name=evil", 'x", "serveUrl": "y', "a b"):
        with pytest.raises(UsageError):
            validate_name(name)


def test_a_render_reports_progress_downloads_the_file_and_its_cost(
    aws: lambda_render.ClientSession, stub: Stubber, tmp_path: Path
) -> None:
    expect_start(stub, aws)
    expect_progress(stub, aws, overallProgress=0.4, framesRendered=12, lambdasInvoked=2, chunks=2)
    done = {"done": True, "overallProgress": 1.0, "framesRendered": 30, "outKey": "renders/r1/out.mp4", "outBucket": BUCKET}
    expect_progress(stub, aws, **done)
    aws.client("s3").put_object(Bucket=BUCKET, Key="renders/r1/out.mp4", Body=b"the mp4")
    events: list[dict[str, Any]] = []
    outcome = lambda_render.render(JOB, SETTINGS, DEPLOYED, tmp_path / "out.mp4", events.append, aws, poll_s=0)
    assert (tmp_path / "out.mp4").read_bytes() == b"the mp4" and outcome.error is None
    assert [(e["renderedFrames"], e["frames"], e["progress"]) for e in events] == [(12, 30, 0.4), (30, 30, 1.0)]
    assert events[0]["lambda"]["invoked"] == 2 and events[-1]["encodedFrames"] == 30
    assert outcome.cost == {"usd": 0.00123, "display": "$0.0012", "currency": "USD", "disclaimer": "an estimate"}


def test_a_fatal_error_of_the_videos_code_is_the_renders_error(
    aws: lambda_render.ClientSession, stub: Stubber, tmp_path: Path
) -> None:
    expect_start(stub, aws)
    error = {"message": "ReferenceError: tilte is not defined\n    at Title", "frame": 12, "isFatal": True, "name": "Error"}
    expect_progress(stub, aws, fatalErrorEncountered=True, errors=[error])
    outcome = lambda_render.render(JOB, SETTINGS, DEPLOYED, tmp_path / "out.mp4", lambda _e: None, aws, poll_s=0)
    assert outcome.error == "on Lambda: ReferenceError: tilte is not defined" and outcome.frame == 12
    assert not (tmp_path / "out.mp4").exists() and outcome.cost is not None


@pytest.mark.parametrize(
    ("code", "status", "fragments"),
    [
        ("TooManyRequestsException", 429, ["rate limit", "10 functions", "concurrency"]),
        ("UnrecognizedClientException", 403, ["refused the credentials", "aws configure"]),
        ("ResourceNotFoundException", 404, [FUNCTION, "vidgen lambda deploy"]),
    ],
)
def test_lambdas_refusals_are_one_line_saying_what_to_do(
    aws: lambda_render.ClientSession, stub: Stubber, tmp_path: Path, code: str, status: int, fragments: list[str]
) -> None:
    stub.add_client_error("invoke", service_error_code=code, service_message="no", http_status_code=status)
    with pytest.raises(CloudError) as raised:
        lambda_render.render(JOB, SETTINGS, DEPLOYED, tmp_path / "out.mp4", lambda _e: None, aws, poll_s=0)
    assert raised.value.exit_code == 3 and "\n" not in str(raised.value)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_a_function_of_another_version_refusing_is_a_version_mismatch(
    aws: lambda_render.ClientSession, stub: Stubber, tmp_path: Path
) -> None:
    message = (
        "Version mismatch: When calling renderMediaOnLambda(), you called the function remotion-render-4-0-400 which has the"
        " version 4.0.400 but the @remotion/lambda package you used to invoke the function has version 4.0.527."
    )
    expect_start(stub, aws, {"type": "error", "message": message, "stack": "Error: ..."})
    with pytest.raises(CloudError, match="version mismatch: .* run `vidgen lambda deploy`"):
        lambda_render.render(JOB, SETTINGS, DEPLOYED, tmp_path / "out.mp4", lambda _e: None, aws, poll_s=0)


def test_a_function_timeout_says_which_setting_to_change(aws: lambda_render.ClientSession, stub: Stubber, tmp_path: Path) -> None:
    expect_start(stub, aws)
    timeout = {"name": "TimeoutError", "message": "The main function timed out after 120000ms.", "isFatal": True}
    expect_progress(stub, aws, fatalErrorEncountered=True, errors=[timeout])
    with pytest.raises(CloudError, match="timeout of 120s: .*frames_per_lambda.*timeout_s"):
        lambda_render.render(JOB, SETTINGS, DEPLOYED, tmp_path / "out.mp4", lambda _e: None, aws, poll_s=0)


def test_no_credentials_is_said_before_any_call(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = lambda_render.ClientSession(region_name=REGION)
    with Stubber(session.client("lambda", region_name=REGION)):  # no answer queued: any call would fail the test
        with pytest.raises(CloudError, match="no AWS credentials were found; set them the AWS way"):
            lambda_render.render(JOB, SETTINGS, DEPLOYED, tmp_path / "out.mp4", lambda _e: None, session, poll_s=0)


@pytest.mark.parametrize("cancellable", [True, False])
def test_ctrl_c_cancels_the_render_on_lambda(
    aws: lambda_render.ClientSession, stub: Stubber, tmp_path: Path, cancellable: bool
) -> None:
    """Ctrl-C writes Remotion's cancel.json; when it cannot, the line says the render goes on (and is paid for)."""
    s3 = aws.client("s3")
    if cancellable:
        s3.put_object(Bucket=BUCKET, Key="renders/r1/progress.json", Body=json.dumps({"cancellationEnabled": True}))
    expect_start(stub, aws)
    expect_progress(stub, aws, overallProgress=0.1)
    notes: list[str] = []

    def interrupt(_event: dict[str, Any]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lambda_render.render(JOB, SETTINGS, DEPLOYED, tmp_path / "out.mp4", interrupt, aws, poll_s=0, on_note=notes.append)
    keys = [entry["Key"] for entry in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert ("renders/r1/cancel.json" in keys) is cancellable
    assert ("asked Lambda to cancel" in notes[0]) is cancellable and ("goes on on Lambda" in notes[0]) is not cancellable


def test_large_input_props_go_through_s3(aws: lambda_render.ClientSession) -> None:
    """Props past Lambda's payload limit are uploaded to the Remotion bucket by the client; the request names them."""
    job = lambda_render.Job("hello", "h264", 30, 30000, props={"items": ["x" * 100] * 3000})
    request = json.loads(lambda_render.request_json(job, SETTINGS, DEPLOYED, aws))
    props = request["inputProps"]
    assert props["type"] == "bucket-url" and props["bucketName"] == BUCKET
    stored = aws.client("s3").get_object(Bucket=BUCKET, Key=f"input-props/{props['hash']}.json")["Body"].read()
    assert json.loads(stored) == job.props
