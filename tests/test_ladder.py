"""Each ladder stage, given a purposely broken video, fails with a precise structured error."""

from __future__ import annotations

import threading
import time

import pytest

from vidgen.engine.session import Session
from vidgen.errors import Cancelled
from vidgen.render import ladder
from vidgen.render import video as render

from .helpers import MOVING, component, group_members

pytestmark = pytest.mark.render


def check(session: Session, video):
    return ladder.run(session, video)


def test_good_video_passes_every_stage(qa_session: Session, make_video) -> None:
    video = make_video("ladder-good", {"index.tsx": component(MOVING)})
    result = check(qa_session, video)
    assert result.error is None, result.error
    assert list(result.timings) == [stage for stage in ladder.STAGES if stage != "sound"]  # no narration or music here
    assert (result.composition.width, result.composition.height, result.composition.frames) == (640, 360, 30)
    assert [s["frame"] for s in result.stills] == [0, 10, 19, 29]
    assert all(s["path"].endswith(".jpeg") for s in result.stills)


def test_imports_rejects_node_modules_and_host_files(session: Session, make_video) -> None:
    video = make_video(
        "ladder-imports", {"index.tsx": component("return <AbsoluteFill />;", imports="import fs from 'node:fs';")}
    )
    error = check(session, video).error
    assert error.stage == "imports"
    assert (error.file, error.line) == ("index.tsx", 3)
    assert "node:fs" in error.message and error.excerpt.splitlines()[2].startswith(">")

    video = make_video(
        "ladder-outside", {"index.tsx": component("return <AbsoluteFill />;", imports="import {Title} from '../hello/Title';")}
    )
    error = check(session, video).error
    assert error.stage == "imports" and "outside the video folder" in error.message


def test_imports_requires_config_and_default_export(session: Session, make_video) -> None:
    source = component(MOVING).replace("export default Video;", "")
    error = check(session, make_video("ladder-nodefault", {"index.tsx": source})).error
    assert error.stage == "imports" and "no default export" in error.message
    source = component(MOVING).replace("export const config", "const config")
    error = check(session, make_video("ladder-noconfig", {"index.tsx": source})).error
    assert error.stage == "imports" and "export const config" in error.message


def test_lint_catches_math_random_and_css_transitions(session: Session, make_video) -> None:
    body = "const x = Math.random() * 10;\nreturn <AbsoluteFill style={{left: x}} />;"
    error = check(session, make_video("ladder-lint", {"index.tsx": component(body)})).error
    assert (error.stage, error.code) == ("lint", "compile")
    assert (error.file, error.line) == ("index.tsx", 8)
    assert "random" in error.message
    body = "return <AbsoluteFill style={{transition: 'opacity 1s'}} />;"
    error = check(session, make_video("ladder-lint-css", {"index.tsx": component(body)})).error
    assert error.stage == "lint" and "useCurrentFrame" in error.message


def test_typecheck_reports_file_line_and_code(session: Session, make_video) -> None:
    files = {
        "index.tsx": component("return <Label text={frame} />;", imports="import {Label} from './Label';"),
        "Label.tsx": "import React from 'react';\n\nexport const Label: React.FC<{text: string}> = ({text}) => {\n  const size: number = 'big';\n  return <div>{text}{size}</div>;\n};\n",
    }
    error = check(session, make_video("ladder-types", files)).error
    assert error.stage == "typecheck"
    assert error.file in {"index.tsx", "Label.tsx"}
    assert error.message.startswith("TS2322")
    assert "/" not in error.message.split(":")[0]


def test_bundle_reports_what_cannot_be_resolved(session: Session, make_video) -> None:
    source = component(MOVING, imports="import './missing.css';")
    error = check(session, make_video("ladder-bundle", {"index.tsx": source})).error
    assert error.stage == "bundle"
    assert error.message == "Can't resolve './missing.css'"
    assert error.file == "index.tsx"
    assert "node_modules" not in error.message and "/tmp" not in error.message


def test_a_broken_video_does_not_stop_another(session: Session, make_video) -> None:
    make_video("ladder-broken-neighbour", {"index.tsx": component(MOVING, imports="import './missing.css';")})
    video = make_video("ladder-healthy", {"index.tsx": component(MOVING)})
    assert check(session, video).error is None


def test_composition_rejects_odd_sizes(session: Session, make_video) -> None:
    error = check(session, make_video("ladder-odd", {"index.tsx": component(MOVING, width=641)})).error
    assert (error.stage, error.code) == ("composition", "config")
    assert "even" in error.message and "641x360" in error.message
    assert (error.file, error.line) == ("index.tsx", 4)  # the line of `export const config`


def test_composition_rejects_zero_and_huge_durations(session: Session, make_video) -> None:
    error = check(session, make_video("ladder-zero", {"index.tsx": component(MOVING, frames=0)})).error
    assert error.stage == "composition"
    error = check(session, make_video("ladder-huge", {"index.tsx": component(MOVING, frames=10_000_000)})).error
    assert error.stage == "composition" and "max_seconds" in error.message


def test_the_composition_page_opens_beside_typecheck_whose_verdict_still_comes_first(
    session: Session, make_video, monkeypatch
) -> None:
    """The composition's page needs the bundle only: a video with Sequences (read by a `timeline` request, which
    a cancel closes) has it opened while typecheck runs (typecheck here waits for it, up to 60 s), and a video
    failing both is still reported at typecheck, the earlier stage. A video without Sequences is read by a
    `metadata` request, which cannot be cancelled: that one waits for typecheck's verdict."""
    asked, order = threading.Event(), []
    timeline_op, metadata, typecheck = session.service.timeline, session.service.metadata, session.service.typecheck

    def noted(*args, **kwargs):
        order.append("timeline")
        asked.set()
        return timeline_op(*args, **kwargs)

    def noted_metadata(*args, **kwargs):
        order.append("metadata")
        return metadata(*args, **kwargs)

    def answered(*args, **kwargs):
        answer = typecheck(*args, **kwargs)
        order.append("typecheck")
        return answer

    def after_the_page(*args, **kwargs):
        asked.wait(60)
        return answered(*args, **kwargs)

    monkeypatch.setattr(session.service, "timeline", noted)
    monkeypatch.setattr(session.service, "metadata", noted_metadata)
    monkeypatch.setattr(session.service, "typecheck", answered)
    assert check(session, make_video("ladder-ahead-plain", {"index.tsx": component(MOVING)})).error is None
    assert order == ["typecheck", "metadata"], order

    order.clear()
    monkeypatch.setattr(session.service, "typecheck", after_the_page)
    imports = "import {Sequence} from 'remotion';"
    scenes = MOVING.replace("<div style", "<Sequence durationInFrames={30}><div style").replace("} />\n", "} /></Sequence>\n")
    assert "<Sequence" in scenes and "</Sequence>" in scenes
    assert check(session, make_video("ladder-ahead", {"index.tsx": component(scenes, imports=imports)})).error is None
    assert order == ["timeline", "typecheck"], order

    both = component(scenes.replace("const x =", "const wrong: number = 'x';\nconst x ="), width=641, imports=imports)
    error = check(session, make_video("ladder-ahead-both", {"index.tsx": both})).error
    assert error.stage == "typecheck" and error.message.startswith("TS2322")


def test_a_composition_page_opened_beside_lint_is_cancelled_when_lint_rejects_the_code(
    session: Session, make_video, monkeypatch
) -> None:
    """Code lint rejects runs only until lint's verdict: here a loop on the wall clock that never ends, whose
    page would otherwise wait out its timeout. The page is cancelled (lint answers once it was asked for),
    never times out, and the service is not restarted."""
    asked, ended, outcomes = threading.Event(), threading.Event(), []
    timeline_op, lint = session.service.timeline, session.service.lint

    def recorded(*args, **kwargs):
        asked.set()
        try:
            return timeline_op(*args, **kwargs)
        except BaseException as exc:
            outcomes.append(exc)
            raise
        finally:
            ended.set()

    def after_the_page(*args, **kwargs):
        asked.wait(60)
        return lint(*args, **kwargs)

    monkeypatch.setattr(session.service, "timeline", recorded)
    monkeypatch.setattr(session.service, "lint", after_the_page)
    body = """
    while (Date.now() > 0) {
      // waits for the wall clock, forever
    }
    return (
      <AbsoluteFill style={{backgroundColor: '#203060'}}>
        <Sequence durationInFrames={30}><div>hello</div></Sequence>
      </AbsoluteFill>
    );
    """
    imports = "import {Sequence} from 'remotion';"
    error = check(session, make_video("ladder-ahead-hang", {"index.tsx": component(body, imports=imports)})).error
    pid = session.service.pid
    assert (error.stage, error.line) == ("lint", 8) and "Date.now() is wall-clock time" in error.message, error
    assert ended.wait(15), "the composition's page was not cancelled"  # its own timeout: 30 s x 2 + 5 s
    assert len(outcomes) == 1 and isinstance(outcomes[0], Cancelled), outcomes
    assert pid is not None and session.service.pid == pid
    assert check(session, make_video("ladder-ahead-after", {"index.tsx": component(MOVING)})).error is None


def test_stills_catch_a_throw_late_in_the_video(session: Session, make_video) -> None:
    body = "if (frame >= 19) {\n  throw new Error('the route has no points');\n}\n" + MOVING
    error = check(session, make_video("ladder-throw", {"index.tsx": component(body)})).error
    assert (error.stage, error.code) == ("stills", "runtime")
    assert error.frame == 19
    assert "the route has no points" in error.message
    assert (error.file, error.line) == ("index.tsx", 9)
    assert "\n    at " not in error.message


def test_a_watchs_first_still_of_a_video_that_throws_at_once_fails_as_a_checks_does(
    session: Session, make_video, monkeypatch
) -> None:
    """Watch reads the timeline on a page it keeps for its first still; a video that throws as it mounts ends
    that walk at once (not at its 30 s timeout), is drawn again on a page of its own, and fails as a check's
    stills do: the same stage, frame, message and line."""
    took, timeline_op = [], session.service.timeline

    def timed(*args, **kwargs):
        started = time.monotonic()
        try:
            return timeline_op(*args, **kwargs)
        finally:
            took.append(time.monotonic() - started)

    monkeypatch.setattr(session.service, "timeline", timed)
    body = "if (frame >= 0) {\n  throw new Error('the map has no tiles');\n}\n" + MOVING
    video = make_video("ladder-throw-first", {"index.tsx": component(body)})
    first = ladder.run(session, video, stills=ladder.Stills.FIRST).error
    alone = check(session, video).error
    assert (first.stage, first.code, first.frame, first.line) == ("stills", "runtime", 0, 9), first
    assert (first.message, first.file) == (alone.message, alone.file) and "the map has no tiles" in first.message
    assert len(took) == 1 and took[0] < 15, took  # the walk's own timeout is 30 s


def test_a_render_is_its_own_pass_over_the_frames_and_a_long_one_fails_fast(session: Session, make_video) -> None:
    # Short: no stills before the render; the throw at frame 19 fails the render there, as precisely.
    body = "if (frame >= 19) {\n  throw new Error('the route has no points');\n}\n" + MOVING
    result = render.render(session, make_video("ladder-throw-render", {"index.tsx": component(body)}), previews=False)
    error = result.error
    assert error is not None and (error.stage, error.code, error.frame) == ("render", "runtime", 19), error
    assert (error.file, error.line) == ("index.tsx", 9) and "the route has no points" in error.message
    assert "stills" not in result.timings and result.stills == []
    # 10 s and more with layout QA off: its first, middle and last frames first, and no render after a throw there.
    body = "if (frame === 99) {\n  throw new Error('the last frame has no title');\n}\n" + MOVING
    result = render.render(
        session, make_video("ladder-throw-long", {"index.tsx": component(body, frames=100, fps=10)}), previews=False
    )
    error = result.error
    assert error is not None and (error.stage, error.code, error.frame) == ("stills", "runtime", 99), error
    assert "render" not in result.timings and {still["frame"] for still in result.stills} <= {0, 50}


def test_endless_loop_times_out_restarts_the_service_and_names_the_frame(own_session: Session, make_video) -> None:
    session = own_session
    session.service.start()
    old_pid = session.service.pid
    assert old_pid is not None
    body = "if (frame >= 10) {\n  while (true) {\n    // a bug\n  }\n}\n" + MOVING
    error = check(session, make_video("ladder-loop", {"index.tsx": body and component(body)})).error
    assert (error.stage, error.code) == ("stills", "timeout")
    assert error.frame == 10
    assert error.message == (
        "frame 10 did not finish in time: an endless loop or a stuck computation in the component;"
        " the render service was restarted"
    )
    assert group_members(old_pid) == set(), "the killed service left processes behind"
    video = make_video("ladder-after-loop", {"index.tsx": component(MOVING)})
    assert check(session, video).error is None
    assert session.service.pid != old_pid


def test_a_delay_render_never_cleared_is_named(session: Session, make_video) -> None:
    body = "React.useLayoutEffect(() => {\n  delayRender('loading the route');\n}, []);\n" + MOVING
    source = component(body).replace("import {AbsoluteFill,", "import {delayRender, AbsoluteFill,")
    error = check(session, make_video("ladder-delay", {"index.tsx": source})).error
    assert (error.stage, error.code) == ("stills", "timeout")
    assert "delayRender" in error.message and "loading the route" in error.message
    assert error.frame == 0
    video = make_video("ladder-after-delay", {"index.tsx": component(MOVING)})
    assert check(session, video).error is None
