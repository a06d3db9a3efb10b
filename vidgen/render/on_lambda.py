"""A video rendered on Remotion Lambda instead of this machine, after the same local checks, verified the same way.

The ladder has passed here (up to the stills and layout QA); then the workspace's code is uploaded as the
site (under the same name, so the function renders the code as it is now), the render runs on Lambda, its
MP4 is downloaded into staging, verified like a local render, and only then moved into place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..check import diagnostics
from ..cloud import deployment as deployments
from ..cloud import versions
from ..engine.session import Session
from ..errors import Stage, StructuredError
from ..settings import Settings
from ..sound import narration
from ..workspace.files import exclusive, move_into_place
from ..workspace.project import Video, Workspace
from ..workspace.staging import partial_path
from . import ladder
from .options import RenderOptions
from .verify import verify_render


def job_for(video: Video, composition: ladder.Composition | None, codec: str, asked: RenderOptions, timeout_s: float) -> Any:
    """The Lambda job of a render: its frame range resolved once the video's length is known (open until then)."""
    from ..cloud.lambda_render import Job

    span: tuple[int, int | None] | None = asked.frames
    frames = 0
    if composition is not None:
        span = asked.frame_range(composition)
        frames = asked.expected(composition, codec).frames
    return Job(video.name, codec, frames, int(timeout_s * 1000), asked.props, asked.scale, span, asked.crf)


def preflight(settings: Settings, workspace: Workspace) -> deployments.Deployment:
    """Before any work: the client installed at the workspace's Remotion version, and a function of it deployed."""
    versions.require_client(versions.template_version(workspace.root))
    return deployments.for_render(workspace, settings.lambda_)


def dry_run(settings: Settings, video: Video, codec: str, asked: RenderOptions) -> str:
    """The request a render on Lambda would send, as JSON, without checking, uploading or calling anything."""
    from ..cloud import lambda_render

    deployment = preflight(settings, video.workspace)
    job = job_for(video, None, codec, asked, settings.render.frame_timeout_s)
    return lambda_render.request_json(job, settings.lambda_, deployment)


def render(
    session: Session,
    video: Video,
    composition: ladder.Composition,
    codec: str,
    target: Path,
    on_event: ladder.Events,
    timeline: narration.Timeline | None,
    asked: RenderOptions,
    aws: Any = None,
) -> tuple[StructuredError | None, dict[str, Any] | None]:
    """Upload the site, render on Lambda, download and verify; the render's error (the video's) and its cost.
    What the user must fix (credentials, rate limit, timeout, versions) is raised as a CloudError. `aws` is the
    boto3 session to use (default: a new one on the AWS SDK's credential chain)."""
    from ..cloud import lambda_render

    settings = session.settings
    workspace = video.workspace
    deployment = preflight(settings, workspace)
    job = job_for(video, composition, codec, asked, settings.render.frame_timeout_s)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(video, target)
    # One site per workspace: a render uploads it and renders from it before another may replace it.
    with session.render_turn(), exclusive(workspace.state_dir / "lambda.lock"):
        on_event("stage", {"stage": "site", "note": "uploading the workspace's code to S3"})
        url = deployments.upload_site(workspace, settings.lambda_)
        on_event("stage", {"stage": Stage.RENDER, "note": f"on Lambda in {deployment.region}"})
        try:
            outcome = lambda_render.render(
                job,
                settings.lambda_,
                deployments.Deployment(**{**deployment.to_json(), "serve_url": url}),
                partial,
                lambda event: on_event("progress", event),
                session=aws,
                on_note=lambda line: on_event("note", {"message": line}),
            )
            if outcome.error is not None:
                return diagnostics.make(Stage.RENDER, outcome.error, video, frame=outcome.frame), outcome.cost
            on_event("stage", {"stage": Stage.VERIFY})
            error = verify_render(video, partial, asked.expected(composition, codec), codec, timeline, asked.frames is None)
            if error is None:
                move_into_place(partial, target)
            return error, outcome.cost
        finally:
            partial.unlink(missing_ok=True)
