"""The model loop: a request becomes files, the files a rendered video, every failure a repair.

`new` and `edit` (and watch's typed instructions, and batch) call `run`; it returns plain
data (attempts, usage, the render result) and prints nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..check import constraints as constraints_module
from ..check import diagnostics
from ..engine.session import Session
from ..errors import Finding, ModelError, ReplyError, StructuredError
from ..media import assets
from ..model.client import Completion, ModelClient, Usage
from ..render import video as render
from ..sound import music
from ..workspace import history, state, transcript, tree
from ..workspace.project import NAME_PATTERN, Video, unique_name
from . import critique, prompts, replies, writer

Events = Callable[[str, dict[str, Any]], None]


def _quiet(_kind: str, _data: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class Request:
    kind: str  # "new" | "edit" | "repair" (of an error found outside the loop, as in watch)
    video: Video
    prompt: str
    constraints: constraints_module.Constraints = constraints_module.Constraints()
    max_repairs: int = 3
    render: bool = True
    error: StructuredError | None = None
    narrate: bool = False  # the model also writes narration.json (see prompts/narration.j2)
    captions: bool = False
    polish: bool = False  # a passing video with warnings gets one more turn to fix them (see _polish)
    name_it: bool = False  # a `new` whose name came from the idea's words: the model's first reply may name it


@dataclass
class Attempt:
    stage: str | None
    error: StructuredError | None
    infra: int = 0  # faults not the model's (a crash, a timeout under load) retried on a fresh service in this turn

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "error": self.error.to_dict() if self.error else None, "infra": self.infra}


@dataclass
class Polish:
    """The turn after a passing video with warnings: what was sent, and whether its version was kept."""

    warnings: list[Finding]
    kept: bool
    error: StructuredError | None = None  # why it was not kept

    def to_dict(self) -> dict[str, Any]:
        return {
            "warnings": [w.to_dict() for w in self.warnings],
            "kept": self.kept,
            "error": self.error.to_dict() if self.error else None,
        }


@dataclass
class LoopResult:
    name: str
    attempts: list[Attempt] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    result: render.RenderResult | None = None
    model_s: float = 0.0  # time waiting for the model
    render_s: float = 0.0  # time in the ladder and the render, not counting waits for the render slot
    critique_s: float = 0.0  # time waiting for the vision critique
    warnings: list[str] = field(default_factory=list)  # shown, never a failure (a malformed critique verdict)
    polish: Polish | None = None

    @property
    def ok(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].error is None

    @property
    def error(self) -> StructuredError | None:
        return self.attempts[-1].error if self.attempts else None

    def model_turns(self) -> int:
        """The model turns the outcome took (a polish turn not counted)."""
        return len(self.attempts)

    def to_json(self) -> dict[str, Any]:
        base = self.result.to_json() if self.result else render.RenderResult(self.name, "failed", error=self.error).to_json()
        if base["error"] is None and self.error is not None:
            base.update(status="failed", error=self.error.to_dict())
        return {
            **base,
            "attempts": [a.to_dict() for a in self.attempts],
            "infra": sum(a.infra for a in self.attempts),
            "usage": self.usage.to_dict(),
            "model": self.model,
            "warnings": self.warnings,
            "polish": self.polish.to_dict() if self.polish else None,
        }


def run(
    session: Session, client: ModelClient, request: Request, on_event: Events = _quiet, critic: critique.Critic | None = None
) -> LoopResult:
    """Ask, apply, check and render; on failure send the structured error back, within the budget.

    With a critic, a rendered video's contact sheet goes to a vision model; its defects are one
    more error to repair, within the same budget.
    """
    video = request.video
    check_state(request)
    outcome = LoopResult(video.name, model=client.options.model)
    carried = state.open_warnings(video) if request.kind == "edit" else []
    messages = [prompts.system(session.workspace), _first_message(request, carried)]
    told = {_key(f) for f in carried}  # layout warnings the model has seen: each is sent once
    for attempt in range(request.max_repairs + 1):
        kind = request.kind if attempt == 0 else "repair"
        on_event("model", {"attempt": attempt + 1, "kind": kind})
        completion = ask(client, messages, outcome, on_event)
        if attempt == 0 and request.name_it:
            request = _named(request, completion, on_event)
            video, outcome.name = request.video, request.video.name
        # Kept before anything can fail: a paid reply is never lost, whatever parsing or writing does.
        entry = keep_reply(video, kind, client.options.model, messages[-2] if attempt else messages[1], completion)
        _summarise(video, completion, on_event)
        error, format_problem, version = _apply(request, completion, kind)
        retried = 0
        if error is None:
            outcome.result = timed_check(session, request, outcome, on_event, sheet_now=critic is not None)
            error, retried = outcome.result.error, len(outcome.result.retried)
            if error is None and critic is not None:
                error = _critique(critic, request, outcome, attempt < request.max_repairs, on_event)
        if version is not None:
            history.update(
                version, status="ok" if error is None else f"failed at {error.stage}", tokens=completion.usage.to_dict()
            )
        if error is not None:
            transcript.settle(video, entry, error=error.to_dict())
        outcome.attempts.append(Attempt(error.stage if error else None, error, retried))
        on_event("attempt", {"attempt": attempt + 1, "error": error, "last": attempt == request.max_repairs})
        if error is None:
            if request.polish and request.kind != "repair":
                _polish(session, client, request, outcome, messages, told, on_event)
            return outcome
        if attempt < request.max_repairs:
            messages.append(prompts.repair(error, format_problem, _new_warnings(outcome.result, told)))
    return outcome


def new(session: Session, client: ModelClient, video: Video, idea: str, **options: Any) -> LoopResult:
    """A new video from an idea: the model writes it, vidgen renders and repairs it (`options`: Request's fields)."""
    return run(session, client, Request("new", video, idea, **options))


def edit(session: Session, client: ModelClient, video: Video, instruction: str, **options: Any) -> LoopResult:
    """A video changed as the instruction says, from its files as they are on disk."""
    return run(session, client, Request("edit", video, instruction, **options))


def _named(request: Request, completion: Completion, on_event: Events) -> Request:
    """The request for the video as the model's first reply names it; as it was when the name is missing,
    invalid or taken (then numbered), or when the video's folder already exists."""
    wanted, workspace = replies.video_name(completion.content), request.video.workspace
    if not wanted or request.video.folder.exists() or not NAME_PATTERN.match(wanted) or wanted == request.video.name:
        return request
    named = workspace.video(unique_name(workspace, wanted))
    on_event("named", {"name": named.name, "was": request.video.name})
    return replace(request, video=named)


def check_state(request: Request) -> None:
    """Read what the loop will write to (history, state) before the model is paid for a reply.

    A damaged file is a UsageError naming it, instead of a crash after the reply arrives.
    """
    state.read(request.video.workspace)
    history.versions(request.video)


def _new_warnings(result: render.RenderResult | None, told: set[str]) -> list[Finding]:
    """The warning findings of the last check the model has not been given yet."""
    fresh = [f for f in (result.findings if result else []) if f.severity == "warning" and _key(f) not in told]
    told.update(_key(f) for f in fresh)
    return fresh


def _key(finding: Finding) -> str:
    return f"{finding.kind} {finding.element}"


def _polish(
    session: Session,
    client: ModelClient,
    request: Request,
    outcome: LoopResult,
    messages: list[Any],
    told: set[str],
    on_event: Events,
) -> None:
    """One turn for a passing video's warnings the model has not been told yet; its version is kept only if it passes too.

    Otherwise the files go back to the version that passed, whose render was never replaced (a
    render moves into place only once verified), and `list` says so again: a polish never loses a video.
    """
    video, passed = request.video, outcome.result
    warnings = _new_warnings(passed, told)  # a warning a repair turn carried was seen: it is not sent twice
    if not warnings:
        return
    before = state.read(video.workspace).get(video.name)
    messages.append(prompts.polish(warnings))
    on_event("model", {"attempt": len(outcome.attempts) + 1, "kind": "polish"})
    try:
        completion = ask(client, messages, outcome, on_event)
    except ModelError as exc:  # the video passed already: a failed extra turn must not lose it
        outcome.warnings.append(f"the polish turn got no reply ({exc}): kept the version that passed")
        return
    entry = keep_reply(video, "polish", client.options.model, messages[-2], completion)
    _summarise(video, completion, on_event)
    error, _format_problem, version = _apply(request, completion, "polish")
    result = None
    if error is None:
        result = timed_check(session, request, outcome, on_event, sheet_now=False)
        error = result.error
        outcome.attempts[-1].infra += len(result.retried)
    if version is not None:
        history.update(version, status="ok" if error is None else f"failed at {error.stage}", tokens=completion.usage.to_dict())
    if error is None:
        outcome.result, outcome.polish = result, Polish(warnings, kept=True)
        return
    transcript.settle(video, entry, error=error.to_dict())
    if version is not None:
        history.undo(video)  # the polish's version stays in the history, for `redo`
    if before is not None:
        state.record(video.workspace, video.name, **{k: v for k, v in before.items() if k != "at"})
    outcome.polish = Polish(warnings, kept=False, error=error)
    note = f"the polish turn broke the video ({error.one_line()}): kept the version that passed"
    outcome.warnings.append(note)
    on_event("warning", {"message": note})


def keep_reply(video: Video, kind: str, model: str, asked: dict[str, Any], completion: Completion) -> str:
    """The turn's request and reply in the transcript (its error is settled once known); the entry's id."""
    return transcript.append(
        video,
        {
            "kind": kind,
            "model": model,
            "request": asked,
            "reply": completion.content,
            "finish_reason": completion.finish_reason,
            "usage": completion.usage.to_dict(),
            "error": None,
        },
    )


def _summarise(video: Video, completion: Completion, on_event: Events) -> None:
    """The reply in short (replies.summary), against the files it is about to replace."""
    summary = replies.summary(completion.content, video.name, history.current_files(video))
    on_event("reply", {**summary, "truncated": completion.finish_reason == "length"})


def timed_check(
    session: Session, request: Request, outcome: LoopResult, on_event: Events, *, sheet_now: bool
) -> render.RenderResult:
    """The turn's check or render, its time added to the outcome (less any wait for the render slot)."""
    started = time.monotonic()
    session.take_waited()
    result = _check_or_render(session, request, on_event, sheet_now=sheet_now)
    outcome.render_s += time.monotonic() - started - session.take_waited()
    return result


def ask(client: ModelClient, messages: list[Any], outcome: LoopResult, on_event: Events) -> Completion:
    """One model turn, its time and usage added to the outcome, its reply appended to the conversation."""
    asked = time.monotonic()
    completion = client.complete(messages, on_status=lambda k, d: on_event("model-status", {"status": k, **d}))
    outcome.model_s += time.monotonic() - asked
    outcome.usage.add(completion.usage)
    outcome.model = completion.model or outcome.model
    messages.append({"role": "assistant", "content": completion.content})
    return completion


def _first_message(request: Request, warnings: list[Finding]) -> dict[str, str]:
    constraints = request.constraints.describe()
    given = [asset.describe() for asset in assets.listed(request.video.workspace, request.video)]
    extras = prompts.Extras(given, request.narrate, request.captions, music.find(request.video) is not None)
    if request.kind == "new":
        return prompts.create(request.video.name, request.prompt, constraints, extras, name_it=request.name_it)
    instruction = request.prompt
    if request.error is not None:
        instruction = prompts.repair(request.error, format_problem=False)["content"]
    files, skipped = history.sendable_files(request.video)
    if skipped:
        # Links (maybe to a secret file) and special files are never read, let alone sent.
        instruction += (
            f"\n\n(Not shown: {', '.join(skipped)}: symbolic links, special files or files over"
            f" {tree.SEND_BYTES // 1024} KiB, which vidgen does not send; do not write files with these names.)"
        )
    return prompts.edit(request.video.name, instruction, files, constraints, extras, warnings)


def _apply(request: Request, completion: Completion, kind: str) -> tuple[StructuredError | None, bool, history.Version | None]:
    """Parse and write the reply: (error, whether it was a format problem, the version written)."""
    video = request.video
    try:
        if completion.finish_reason == "length":
            raise ReplyError("truncated", "the reply was cut off at the token limit: send shorter, complete files")
        blocks = replies.parse(completion.content, video.name, require_index=not video.entry.exists())
        history.keep_hand_edits(video)
        writer.write(video, blocks)
    except ReplyError as exc:
        return diagnostics.make("parse", str(exc), video, file=None), exc.kind != "refused", None
    problem = constraints_module.enforce(video.entry, request.constraints)
    version = history.record(video, kind, request.prompt if kind not in ("repair", "polish") else kind, status="written")
    if problem:
        return diagnostics.make("composition", problem, video, file=video.entry), False, version
    return None, False, version


def _critique(
    critic: critique.Critic, request: Request, outcome: LoopResult, can_repair: bool, on_event: Events
) -> StructuredError | None:
    """The critique of a rendered video: an error for the repair turn, or None (a warning at most)."""
    result = outcome.result
    c = result.composition if result else None
    if result is None or c is None or result.sheet is None or request.kind == "repair":
        return None  # nothing rendered to look at, or no idea to compare with (watch's repairs)
    on_event("stage", {"stage": "critique"})
    shown = sorted(int(s["frame"]) for s in result.stills)
    review = critic.review(request.kind, request.prompt, result.sheet, c.width, c.height, c.fps, c.frames, shown)
    outcome.usage.add(review.usage)
    outcome.critique_s += review.seconds
    error = critique.to_error(review.verdict, c.fps) if review.verdict else None
    transcript.append(
        request.video,
        {
            "kind": "critique",
            "model": critic.model,
            "request": {"role": "user", "content": f"(the critique prompt and {result.sheet.name}, to {critic.model})"},
            "reply": review.reply,
            "usage": review.usage.to_dict(),
            "error": error.to_dict() if error else None,
        },
    )
    warning = review.warning
    if error is not None and not can_repair and review.verdict is not None:
        warning, error = f"critique, with no repair turn left: {critique.describe(review.verdict)}", None
    if warning:
        outcome.warnings.append(warning)
        on_event("warning", {"message": warning})
    return error


def _check_or_render(session: Session, request: Request, on_event: Events, sheet_now: bool) -> render.RenderResult:
    # The shape asked for is checked against what the bundle really exports, not only the rewrite.
    expect = request.constraints or None
    if request.render:  # the critique looks at the contact sheet at once: it cannot wait for the previews
        return render.render(session, request.video, on_event=on_event, expect=expect, sheet_now=sheet_now)
    return render.check(session, request.video, on_event, expect=expect)
