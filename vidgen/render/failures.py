"""How a failure of the render service becomes a stage's error: the video threw, the page timed out,
the browser crashed, or the service itself stopped answering. One wording for every stage and the render."""

from __future__ import annotations

from ..check import diagnostics
from ..engine.session import Session
from ..errors import Code, ServiceError, ServiceFault, StructuredError
from ..workspace.project import Video


def runtime_failure(stage: str, video: Video, session: Session, fault: ServiceFault) -> StructuredError:
    """An error thrown while rendering; after a timeout the page may still spin, so restart."""
    if fault.kind == "timeout":
        session.service.kill()
    if fault.kind == "protocol":
        # Not the code's: the service lost its build (restarted between the bundle and this request).
        return diagnostics.make(stage, fault.message, video, frame=fault.frame, infra=True)
    if fault.kind == "browser-crashed":
        # Not the code's fault as far as anyone knows: no stack to point into; the service opens
        # a new browser for the next request.
        return diagnostics.make(stage, fault.message, video, frame=fault.frame, code=Code.BROWSER_CRASHED, infra=True)
    return diagnostics.from_runtime(stage, video, fault)


def service_failure(stage: str, video: Video, exc: ServiceError, session: Session) -> StructuredError:
    """The service itself failed (stopped, or gave no answer past every timeout of its own): the machine's
    fault as far as anyone knows (Remotion's frame timeout would have named a stuck page first)."""
    if exc.kind == "timeout":
        frame = f"frame {exc.frame}" if exc.frame is not None else "a frame"
        message = (
            f"{frame} did not finish within {session.settings.render.frame_timeout_s:g}s: an endless loop or a"
            " delayRender() that is never cleared; the render service was restarted"
        )
        return diagnostics.make(stage, message, video, frame=exc.frame, code=Code.TIMEOUT, infra=True)
    return diagnostics.make(stage, str(exc), video, frame=exc.frame, code=Code.SERVICE_CRASHED, infra=True)
