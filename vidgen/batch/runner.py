"""Running many items through the same pipeline as `vidgen new`, concurrently and resumably.

Model calls overlap (bounded by --jobs, with one shared backoff for the endpoint) while
frames go through the one warm render service, one render at a time. One poisoned item
fails alone; an error the user must fix (key, quota) stops the batch at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ..agent import critique, loop, story
from ..agent.story_files import Frame
from ..engine.session import Session
from ..errors import CloudError, Code, DiskFull, ModelError, VidgenError
from ..media import assets
from ..model.client import ModelClient, Usage
from ..workspace.project import Video, Workspace, name_from_idea
from .file import Item
from .manifest import Manifest

Announce = Callable[[str, dict[str, Any]], None]


@dataclass
class BatchPlan:
    run: list[tuple[Item, str]]  # items to run, with their video names
    skipped: list[tuple[Item, str]]  # already rendered from the same prompt
    renamed: list[str] = field(default_factory=list)  # why a name was changed


def plan(workspace: Workspace, items: list[Item], manifest: Manifest, *, resume: bool, retry_failed: bool) -> BatchPlan:
    """Which items run, under which names: names stay the same across resumes and never clash."""
    result = BatchPlan([], [])
    owned = {entry.get("name") for entry in manifest.items.values()}
    taken: set[str] = set()
    for item in items:
        entry = manifest.get(item.key) or {}
        name = entry.get("name")
        if name is None or name in taken:
            wanted = item.name or name_from_idea(workspace, item.prompt)
            name, n = wanted, 2
            while name in taken or ((workspace.root / "src" / "videos" / name).exists() and name not in owned):
                name, n = f"{wanted}-{n}", n + 1
            if item.name and name != item.name:
                result.renamed.append(f"line {item.line}: name {item.name!r} is taken, using {name!r}")
        taken.add(name)
        status = entry.get("status")
        rendered = status == "rendered" and entry.get("output") and (workspace.root / entry["output"]).exists()
        if (resume or retry_failed) and rendered:
            result.skipped.append((item, name))
        elif retry_failed and not resume and status != "failed":
            result.skipped.append((item, name))
        else:
            result.run.append((item, name))
    return result


@dataclass
class Outcome:
    item: Item
    name: str
    status: str  # rendered | failed | skipped | pending
    entry: dict[str, Any]


class BatchRun:
    def __init__(
        self,
        session: Session,
        client: ModelClient,
        manifest: Manifest,
        jobs: int,
        default_repairs: int,
        announce: Announce,
        critic: critique.Critic | None = None,
    ):
        self.critic = critic
        self.session = session
        self.client = client
        self.manifest = manifest
        self.jobs = jobs
        self.default_repairs = default_repairs
        self.announce = announce
        self.stop = threading.Event()
        self.fatal: VidgenError | None = None
        # Each rendered item's previews, still being made: they yield to renders (media/yielding.py), so in a
        # batch, whose renders follow each other, most are made at its end, and the report waits for them.
        self._previews: list[tuple[str, list[str], Future[str | None]]] = []
        self._previews_recorded: set[str] = set()
        self._previews_lock = threading.Lock()

    def start(self, work: list[tuple[Item, str]]) -> list[Future[Outcome]]:
        for item, name in work:
            self.manifest.update(
                item.key,
                line=item.line,
                name=name,
                prompt=item.prompt,
                prompt_hash=item.key,
                status=(self.manifest.get(item.key) or {}).get("status", "pending"),
            )
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="batch")
        return [self._pool.submit(self._run_item, item, name) for item, name in work]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _halt(self, error: VidgenError) -> None:
        if self.fatal is None:
            self.fatal = error
        self.stop.set()

    def _run_item(self, item: Item, name: str) -> Outcome:
        if self.stop.is_set():
            return Outcome(item, name, "pending", self.manifest.get(item.key) or {})
        started = time.monotonic()
        self.manifest.update(item.key, status="running", error=None)
        self.announce("start", {"name": name})
        video = self.session.workspace.video(name)
        repairs = item.max_repairs if item.max_repairs is not None else self.default_repairs
        request = loop.Request(
            "new",
            video,
            item.prompt,
            item.shape,
            max_repairs=repairs,
            narrate=item.narrate,
            captions=item.captions,
            polish=self.session.settings.model.polish,
        )
        try:
            assets.add(video, list(item.assets))
            if story.wanted(item.storyboard, item.shape.seconds, self.session.settings.storyboard.min_seconds):
                outcome: loop.LoopResult = self._storyboarded(item, video, repairs)
            else:
                outcome = loop.run(self.session, self.client, request, critic=self.critic)
        except (ModelError, CloudError) as exc:  # the user must fix it: every item would fail the same way
            self._halt(exc)
            self.manifest.update(item.key, status="pending", error={"stage": "model", "message": str(exc)})
            return Outcome(item, name, "pending", self.manifest.get(item.key) or {})
        except DiskFull as exc:
            self._halt(exc)
            return Outcome(item, name, "pending", self.manifest.get(item.key) or {})
        except VidgenError as exc:
            self.manifest.update(item.key, status="failed", error={"stage": "internal", "message": str(exc)})
            return Outcome(item, name, "failed", self.manifest.get(item.key) or {})
        result = outcome.result
        error = outcome.error
        if error is not None and error.code == Code.DISK_FULL:
            self._halt(DiskFull(f"the disk is full while rendering {name}: free some space, then run again with --resume"))
        status = "rendered" if outcome.ok else "failed"
        entry = {
            "status": status,
            "attempts": [a.to_dict() for a in outcome.attempts],
            "error": error.to_dict() if error else None,
            "output": _relative(self.session.workspace, result.output if result and outcome.ok else None),
            "poster": _relative(self.session.workspace, result.poster if result and outcome.ok else None),
            "preview": _relative(self.session.workspace, result.preview if result and outcome.ok else None),
            "sheet": _relative(self.session.workspace, result.sheet if result and outcome.ok else None),
            "warnings": outcome.warnings,
            "polish": outcome.polish.to_dict() if outcome.polish else None,
            "usage": outcome.usage.to_dict(),
            "cost": result.cost if result else None,
            "model": outcome.model,
            "timings": {
                "model_s": round(outcome.model_s, 2),
                "render_s": round(outcome.render_s, 2),
                "critique_s": round(outcome.critique_s, 2),
                "total_s": round(time.monotonic() - started, 2),
            },
        }
        if isinstance(outcome, story.StoryResult):
            entry["storyboard"] = outcome.scorecard()
        try:
            self.manifest.update(item.key, **entry)
        except DiskFull as exc:
            self._halt(exc)
        if result is not None and result.previews is not None and outcome.ok:
            # Made in the gaps between renders: a failure joins the item's warnings (and so the report).
            self._previews.append((item.key, outcome.warnings, result.previews))
            result.previews.add_done_callback(lambda made: self._previews_made(item.key, outcome.warnings, made))
        self.announce("done", {"name": name, "ok": outcome.ok, "error": error})
        return Outcome(item, name, status, self.manifest.get(item.key) or {})

    def _storyboarded(self, item: Item, video: Video, repairs: int) -> story.StoryResult:
        """The item as `new --storyboard --yes` makes it: the plan, then its scenes (at most [storyboard] jobs at once)."""
        shape = item.shape
        frame = Frame(shape.width or 1280, shape.height or 720, shape.fps or 30)
        outcome = story.StoryResult(video.name, model=self.client.options.model)
        board = story.plan(self.client, video, item.prompt, frame, shape.seconds, repairs, outcome)
        if board is not None:
            jobs = self.session.settings.storyboard.jobs
            story.build(self.session, self.client, video, board, frame, outcome, jobs=jobs, max_repairs=repairs, idea=item.prompt)
        return outcome

    def wait_for_previews(self, timeout_s: float) -> int:
        """Wait until every rendered item's previews are made (or `timeout_s` passed), their failures in the
        manifest: the report shows each video's poster and GIF. The number still not made."""
        futures = [made for _, _, made in self._previews]
        wait(futures, timeout=timeout_s)
        for key, warnings, made in self._previews:
            if made.done():
                self._previews_made(key, warnings, made)  # a done future's callback may not have run yet
        return sum(not made.done() for made in futures)

    def _previews_made(self, key: str, warnings: list[str], made: Future[str | None]) -> None:
        """Once per item, whoever sees its previews done first (their callback, or the wait at the end): held
        under the lock until the manifest has it, so the report written after the wait includes it."""
        with self._previews_lock:
            if key in self._previews_recorded:
                return
            self._previews_recorded.add(key)
            problem = made.result()
            if problem is None:
                return
            try:
                self.manifest.update(key, warnings=[*warnings, f"previews: {problem}"])
            except DiskFull:
                pass  # the manifest keeps its last state; the previews' log says what failed


def _relative(workspace: Workspace, path: Any) -> str | None:
    if path is None:
        return None
    try:
        return path.resolve().relative_to(workspace.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def totals(entries: list[dict[str, Any]]) -> Usage:
    usage = Usage()
    for entry in entries:
        u = entry.get("usage") or {}
        usage.add(Usage(u.get("prompt", 0), u.get("completion", 0), u.get("cached", 0)))
    return usage


def scorecard(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """How well the guidance worked on this prompt file: what to compare when a prompt or a model changes.

    Faults that were not the model's (`infra`: a crash, a timeout under load) were retried by vidgen within
    the turn, so they are counted apart and never as a failed turn; one that repeated on a fresh service
    reached the model as an error (`infra_repeated`), and counts as the turn's failure like any other.
    """
    run = [e for e in entries if e.get("attempts")]
    first_try = sum(1 for e in run if e.get("status") == "rendered" and len(e["attempts"]) == 1)
    turns = sum(len(e["attempts"]) for e in run)
    repairs: dict[str, int] = {}
    for entry in run:
        for attempt in entry["attempts"]:
            if attempt.get("stage"):
                repairs[attempt["stage"]] = repairs.get(attempt["stage"], 0) + 1
    return {
        "items": len(run),
        "first_try": first_try,
        "first_try_rate": round(first_try / len(run), 3) if run else None,
        "mean_turns": round(turns / len(run), 2) if run else None,
        "repairs_by_stage": dict(sorted(repairs.items(), key=lambda kv: -kv[1])),
        "infra": sum(int(a.get("infra") or 0) for e in run for a in e["attempts"]),
        "infra_repeated": sum(1 for e in run for a in e["attempts"] if (a.get("error") or {}).get("infra")),
        "tokens": totals(entries).to_dict(),
        "lambda_cost_usd": lambda_cost(entries),
        "storyboard": storyboard_card(run),
    }


def storyboard_card(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The storyboarded items' scenes summed: each video's own card is its entry's `storyboard`.

    A manifest is read back from disk: a value of the wrong type counts as nothing, never as an error.
    """
    cards = [entry["storyboard"] for entry in entries if isinstance(entry.get("storyboard"), dict)]
    if not cards:
        return None
    drifts = [d for d in (_number(c.get("scene_drift_frames")) for c in cards) if d is not None]
    repairs = [c.get("repair_turns") if isinstance(c.get("repair_turns"), dict) else {} for c in cards]
    return {
        "videos": len(cards),
        "scenes": sum(_number(c.get("scene_count")) or 0 for c in cards),
        "scenes_first_try": sum(_number(c.get("scenes_first_try")) or 0 for c in cards),
        "repair_turns": sum(_number(n) or 0 for turns in repairs for n in turns.values()),
        "max_scene_drift_frames": max(drifts) if drifts else None,
        "model_s_at_once": round(sum(_number(c.get("model_s_at_once")) or 0 for c in cards), 2),
        "model_s_one_by_one": round(sum(_number(c.get("model_s_one_by_one")) or 0 for c in cards), 2),
    }


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def lambda_cost(entries: list[dict[str, Any]]) -> float | None:
    """What Remotion Lambda reported the items' renders cost, summed (None when none rendered there)."""
    found = [cost.get("usd") for cost in (entry.get("cost") for entry in entries) if isinstance(cost, dict)]
    costs = [float(usd) for usd in found if isinstance(usd, int | float) and not isinstance(usd, bool)]
    return round(sum(costs), 6) if costs else None


def describe_scorecard(card: dict[str, Any]) -> str:
    """One line for people: first-try rate, turns, where repairs were needed."""
    if not card["items"]:
        return "no item ran"
    repairs = ", ".join(f"{stage} {count}" for stage, count in card["repairs_by_stage"].items()) or "none"
    infra = ""
    if card.get("infra") or card.get("infra_repeated"):
        infra = f"; faults not the model's, retried by vidgen: {card.get('infra', 0)}"
        if card.get("infra_repeated"):
            infra += f" ({card['infra_repeated']} repeated and went to the model)"
    if card.get("lambda_cost_usd") is not None:
        infra += f"; Remotion Lambda cost ${card['lambda_cost_usd']:.4f} (as Lambda estimates it)"
    story = card.get("storyboard")
    if story:
        drift = story["max_scene_drift_frames"]
        infra += (
            f"; storyboarded {story['videos']}: scenes first try {story['scenes_first_try']}/{story['scenes']},"
            f" {story['repair_turns']} scene repair turns"
            + (f", voice vs picture at most {drift:g} frames" if drift is not None else "")
            + f", model {story['model_s_at_once']:.1f} s at once ({story['model_s_one_by_one']:.1f} s one after another)"
        )
    return (
        f"first try {card['first_try']}/{card['items']} ({card['first_try_rate']:.0%}), "
        f"{card['mean_turns']:.1f} model turns on average; failed turns by stage: {repairs}{infra}"
    )
