"""One render on Remotion Lambda through its official Python client: the request, the progress, the file, the cost.

The request is made by the client itself (`construct_render_request`), so `--dry-run` prints what would be
sent. Renders start with `enableCancellation`, so Ctrl-C cancels the render on Lambda (the client's
`cancel_render_on_lambda`); when the cancel cannot be written, the render goes on there and vidgen says so.
The output is private in S3 and downloaded with the same credentials, which come from the AWS SDK's chain
alone: vidgen passes none and stores none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from ..errors import CloudError
from ..settings import LambdaSettings
from . import failures
from .deployment import Deployment
from .remotion_cli import CREDENTIALS_HELP

POLL_S = 1.0


class ClientSession(boto3.session.Session):
    """A boto3 session that makes one client per service and keeps it: the client asks for a new one on every call,
    and a render's polls would otherwise each build one (tens of milliseconds, and a fresh connection)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[str, Any] = {}

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if service_name not in self._clients:
            self._clients[service_name] = super().client(service_name, *args, **kwargs)  # type: ignore[call-overload]
        return self._clients[service_name]


@dataclass(frozen=True)
class Job:
    """What to render: the composition and the options vidgen checked (a frame range resolved when the length is known)."""

    composition: str
    codec: str
    frames: int  # the frames the file will have: progress counts towards it
    timeout_ms: int
    props: dict[str, Any] | None = None
    scale: float | None = None
    frame_range: tuple[int, int | None] | None = None
    crf: int | None = None


@dataclass
class Outcome:
    """How a render on Lambda ended: the file written, or the video's own error; the cost Lambda reported."""

    render_id: str
    bucket: str
    cost: dict[str, Any] | None = None
    error: str | None = None  # the video's code failed on Lambda (a StructuredError for the model)
    frame: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


def params(job: Job, settings: LambdaSettings) -> Any:
    """The client's RenderMediaParams for the job."""
    from remotion_lambda import Privacy, RenderMediaParams

    return RenderMediaParams(
        composition=job.composition,
        codec=job.codec,
        input_props=job.props,
        region=settings.region,
        frames_per_lambda=settings.frames_per_lambda or None,
        concurrency=settings.concurrency or None,
        crf=job.crf,
        scale=job.scale if job.scale is not None else 1,  # type: ignore[arg-type]  # a float scale is Remotion's too
        frame_range=list(job.frame_range) if job.frame_range is not None else None,  # type: ignore[arg-type]
        timeout_in_milliseconds=job.timeout_ms,
        privacy=Privacy.PRIVATE,
        enable_cancellation=True,
    )


def client_for(deployment: Deployment, session: boto3.session.Session | None = None) -> Any:
    """The official client on the deployed function and site; `session` defaults to the AWS SDK's own chain."""
    from remotion_lambda import RemotionClient

    session = session or ClientSession(region_name=deployment.region)
    return RemotionClient(
        region=deployment.region, serve_url=deployment.serve_url, function_name=deployment.function_name, session=session
    )


def request_json(job: Job, settings: LambdaSettings, deployment: Deployment, session: boto3.session.Session | None = None) -> str:
    """The exact JSON the render would send (no credentials are in it: they sign the call, they are not its body)."""
    return str(client_for(deployment, session).construct_render_request(params(job, settings), render_type="video-or-audio"))


def render(
    job: Job,
    settings: LambdaSettings,
    deployment: Deployment,
    target: Path,
    on_progress: Callable[[dict[str, Any]], None],
    session: boto3.session.Session | None = None,
    poll_s: float = POLL_S,
    on_note: Callable[[str], None] = lambda _line: None,
) -> Outcome:
    """Start the render, poll it until done, download the file to `target`; a CloudError for what the user must fix."""
    session = session or ClientSession(region_name=deployment.region)
    if session.get_credentials() is None:
        raise CloudError(f"no AWS credentials were found; {CREDENTIALS_HELP}")
    client = client_for(deployment, session)

    def fail(exc: Exception) -> CloudError:
        return failures.explain(exc, settings.timeout_s, deployment.function_name, deployment.region, deployment.version)

    try:
        started = client.render_media_on_lambda(params(job, settings))
    except Exception as exc:  # boto3's and the client's errors alike become one line
        raise fail(exc) from None
    if started is None:
        raise CloudError("Remotion Lambda answered the render with nothing: run it again")
    outcome = Outcome(started.render_id, started.bucket_name)
    try:
        progress = _poll(client, outcome, job, settings, deployment, on_progress, poll_s, fail)
    except KeyboardInterrupt:
        on_note(_cancel(client, outcome))
        raise
    if outcome.error is None:
        bucket = getattr(progress, "outBucket", None) or outcome.bucket
        try:
            session.client("s3").download_file(bucket, progress.outKey, str(target))
        except Exception as exc:
            raise fail(exc) from None
    return outcome


def _poll(
    client: Any,
    outcome: Outcome,
    job: Job,
    settings: LambdaSettings,
    deployment: Deployment,
    on_progress: Callable[[dict[str, Any]], None],
    poll_s: float,
    fail: Callable[[Exception], CloudError],
) -> Any:
    """Ask for the render's progress until it is done or failed; each answer is shown as a render progress event."""
    while True:
        try:
            progress = client.get_render_progress(outcome.render_id, outcome.bucket)
        except Exception as exc:
            raise fail(exc) from None
        if progress is None:
            raise CloudError("Remotion Lambda answered a progress request with nothing: run it again")
        outcome.cost = cost(progress.costs) or outcome.cost
        event = progress_event(progress, job.frames)
        outcome.events.append(event)
        on_progress(event)
        fatal = [error for error in progress.errors or [] if isinstance(error, dict) and error.get("isFatal")]
        if progress.fatalErrorEncountered or fatal:
            first = (fatal or [e for e in progress.errors or [] if isinstance(e, dict)] or [{}])[0]
            message = str(first.get("message") or "the render failed on Lambda")
            known = failures.classify(
                f"{first.get('name', '')} {message}", settings.timeout_s, deployment.function_name, deployment.version
            )
            if known is not None:
                raise known
            outcome.error = f"on Lambda: {message.splitlines()[0][:300]}"
            frame = first.get("frame")
            outcome.frame = frame if isinstance(frame, int) and not isinstance(frame, bool) else None
            return progress
        if progress.done:
            if not progress.outKey:
                raise CloudError("Remotion Lambda said the render is done but named no output file: run it again")
            return progress
        time.sleep(poll_s)


def progress_event(progress: Any, frames: int) -> dict[str, Any]:
    """A Lambda progress answer in the shape of a local render's progress event (and a `lambda` part of its own)."""
    rendered = progress.framesRendered if isinstance(progress.framesRendered, int) else round(progress.overallProgress * frames)
    encoding = progress.encodingStatus if isinstance(progress.encodingStatus, dict) else {}
    encoded = encoding.get("framesEncoded")
    return {
        "stage": "render",
        "renderedFrames": min(rendered, frames),
        "encodedFrames": min(encoded if isinstance(encoded, int) else (frames if progress.done else 0), frames),
        "frames": frames,
        "progress": round(float(progress.overallProgress or 0), 4),
        "stitchStage": None,
        "lambda": {"invoked": progress.lambdasInvoked, "chunks": progress.chunks, "cost": cost(progress.costs)},
    }


def cost(costs: Any) -> dict[str, Any] | None:
    """The cost Lambda reports so far: {usd, display, currency, disclaimer}."""
    if not isinstance(costs, dict) or not isinstance(costs.get("accruedSoFar"), int | float):
        return None
    return {
        "usd": float(costs["accruedSoFar"]),
        "display": str(costs.get("displayCost") or f"${costs['accruedSoFar']}"),
        "currency": str(costs.get("currency") or "USD"),
        "disclaimer": str(costs.get("disclaimer") or ""),
    }


def _cancel(client: Any, outcome: Outcome) -> str:
    """Ctrl-C: ask Lambda to stop the render; the line that says whether it will."""
    try:
        client.cancel_render_on_lambda(outcome.render_id, outcome.bucket)
    except Exception:  # whatever failed, the render still runs there: say so, do not hide the Ctrl-C
        return (
            f"the render {outcome.render_id} could not be cancelled and goes on on Lambda until it ends (it is paid for);"
            f" its file will be in s3://{outcome.bucket}/renders/{outcome.render_id}/"
        )
    return f"asked Lambda to cancel the render {outcome.render_id}; functions already running finish their frames"
