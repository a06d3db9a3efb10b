"""A cheaper cold start: lint and typecheck skipped for sources that passed them unchanged, never after an
edit (of the video, a shared file or the lint config), and a bundle cache that outlives the service."""

from __future__ import annotations

import os
from typing import Any

from vidgen import settings as settings_module
from vidgen.engine.protocol import MetadataArgs
from vidgen.engine.session import Session
from vidgen.render import ladder
from vidgen.workspace.project import Video

from .helpers import MOVING, component


def _check(session: Session, video: Video) -> tuple[ladder.CheckResult, list[tuple[str, dict[str, Any]]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    result = ladder.run(session, video, lambda kind, data: events.append((kind, data)), stills=False)
    return result, events


def _ran(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [data["stage"] for kind, data in events if kind == "stage"]


def test_unchanged_sources_skip_lint_and_typecheck_and_say_so(session: Session, make_video) -> None:
    video = make_video("coldstart-unchanged", {"index.tsx": component(MOVING)})
    first, events = _check(session, video)
    assert first.error is None and first.skipped == []
    assert {"lint", "typecheck"} <= set(_ran(events))

    second, events = _check(session, video)
    assert second.error is None, second.error
    assert second.skipped == ["lint", "typecheck"]
    assert second.timings["lint"] == 0.0 and second.timings["typecheck"] == 0.0
    assert [data["stage"] for kind, data in events if kind == "skipped"] == ["lint", "typecheck"]
    assert "lint" not in _ran(events) and "typecheck" not in _ran(events)
    assert "bundle" in _ran(events) and second.composition is not None  # the rest of the ladder still runs


def test_an_edit_of_the_video_is_checked_again_even_with_the_same_size_and_time(session: Session, make_video) -> None:
    good = "const x = Math.abs(frame) * 10;\nreturn <AbsoluteFill style={{left: x}} />;"
    bad = "const x = Math.random(  ) * 10;\nreturn <AbsoluteFill style={{left: x}} />;"
    assert len(good) == len(bad)
    video = make_video("coldstart-edited", {"index.tsx": component(good)})
    assert _check(session, video)[0].error is None
    assert _check(session, video)[0].skipped == ["lint", "typecheck"]

    before = video.entry.stat()
    video.entry.write_text(component(bad))
    os.utime(video.entry, ns=(before.st_atime_ns, before.st_mtime_ns))  # only the content tells
    result, _ = _check(session, video)
    assert result.skipped == []
    assert (
        result.error is not None and result.error.stage == "lint" and (result.error.file, result.error.line) == ("index.tsx", 8)
    )

    # A new file beside the entry is part of the video: its type error is found.
    video.entry.write_text(component(good))
    assert _check(session, video)[0].error is None
    (video.folder / "Label.ts").write_text("export const label: number = 'seven';\n")
    result, _ = _check(session, video)
    assert result.skipped == []
    assert result.error is not None and result.error.stage == "typecheck"
    assert result.error.file == "Label.ts" and result.error.message.startswith("TS2322")


def test_an_edit_of_a_shared_file_is_checked_again(session: Session, make_video, workspace) -> None:
    shared = workspace.root / "src" / "assets.d.ts"
    original = shared.read_text()
    body = "const limit = (): number => COLDSTART_LIMIT;\nreturn <AbsoluteFill data-limit={typeof limit} />;"
    try:
        shared.write_text(original + "declare const COLDSTART_LIMIT: number;\n")
        video = make_video("coldstart-shared", {"index.tsx": component(body)})
        assert _check(session, video)[0].error is None
        assert _check(session, video)[0].skipped == ["lint", "typecheck"]

        shared.write_text(original + "declare const COLDSTART_LIMIT: string;\n")
        result, _ = _check(session, video)
        assert result.skipped == []
        assert result.error is not None and result.error.stage == "typecheck"
        assert result.error.file == "index.tsx" and result.error.message.startswith("TS2322")
    finally:
        shared.write_text(original)


def test_an_edit_of_the_lint_config_is_checked_again_by_a_warm_checker(session: Session, make_video, workspace) -> None:
    config = workspace.root / "eslint.config.mjs"
    original = config.read_text()
    assert original.rstrip().endswith("];")
    video = make_video(
        "coldstart-lint-config",
        {"index.tsx": component("var shade = 'red';\nreturn <AbsoluteFill style={{backgroundColor: shade}} />;")},
    )
    assert _check(session, video)[0].error is None  # the checker is warm with the config as it was
    assert _check(session, video)[0].skipped == ["lint", "typecheck"]
    try:
        stricter = original.rstrip().removesuffix("];") + "  {files: ['src/**/*.{ts,tsx}'], rules: {'no-var': 'error'}},\n];\n"
        config.write_text(stricter)
        result, _ = _check(session, video)
        assert result.skipped == []
        assert result.error is not None and result.error.stage == "lint"
        assert (result.error.file, result.error.line) == ("index.tsx", 8) and "var" in result.error.message
    finally:
        config.write_text(original)
    assert _check(session, video)[0].error is None  # and the old config is read again


def test_a_record_that_cannot_be_kept_costs_only_the_skip(session: Session, make_video, workspace) -> None:
    records = workspace.state_dir / "checked"
    video = make_video("coldstart-no-record", {"index.tsx": component(MOVING)})
    saved = records.with_name("checked.saved")
    if records.exists():
        records.rename(saved)
    try:
        records.write_text("not a folder")  # where the records go, something else is in the way
        for _ in range(2):
            result, events = _check(session, video)
            assert result.error is None and result.skipped == [] and "lint" in _ran(events)
    finally:
        records.unlink()
        if saved.exists():
            saved.rename(records)


def test_the_bundle_cache_outlives_the_service_and_never_serves_an_edit_stale(workspace, make_video) -> None:
    video = make_video("coldstart-bundle-cache", {"index.tsx": component(MOVING, width=640, height=360)})
    with Session.open(workspace, settings_module.load(workspace.root)) as first:
        result, _ = _check(first, video)
        assert result.error is None and result.composition is not None and result.composition.width == 640
    caches = workspace.root / "node_modules" / ".cache" / "webpack"
    packs = [pack for pack in caches.glob("remotion-production-*/*/*.pack") if pack.stat().st_size > 0]
    assert packs, f"no webpack cache under {caches}"

    video.entry.write_text(component(MOVING, width=320, height=180))
    with Session.open(workspace, settings_module.load(workspace.root)) as second:
        result, _ = _check(second, video)
        assert result.error is None, result.error
        assert result.composition is not None and (result.composition.width, result.composition.height) == (320, 180)


def test_a_config_is_asked_again_only_when_the_code_changed(session: Session, make_video) -> None:
    """The service keeps each video's config per build content (webpack's hash), so a check, then a render of
    the same code, opens its page once; an edit is seen at once, an edit undone too."""
    source = component(MOVING)
    video = make_video("coldstart-config-edits", {"index.tsx": source})
    seen = []
    for text in (source, source, source.replace("width: 640", "width: 320"), source, source.replace("30, fps", "45, fps")):
        video.entry.write_text(text)
        session.service.bundle(timeout_s=300)
        config = session.service.metadata(MetadataArgs(video.name, 30000), timeout_s=120)
        seen.append((config.frames, config.width))
    assert seen == [(30, 640), (30, 640), (30, 320), (30, 640), (45, 640)]
