"""Lint catches what passes every other stage and looks wrong, and never chokes on a model's habits.

Each case is a real video through the real ladder; lint runs in the warm service's checker.
"""

from __future__ import annotations

import pytest

from vidgen.engine.session import Session
from vidgen.render import ladder

pytestmark = pytest.mark.render

HEAD = """\
import React, {useEffect, useLayoutEffect, useState} from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame, useDelayRender} from 'remotion';

export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};

"""


def video(body: str) -> str:
    return (
        HEAD + "const Video: React.FC = () => {\n  const frame = useCurrentFrame();\n" + body + "\n};\n\nexport default Video;\n"
    )


CONDITIONAL_HOOK = video(
    "  if (frame > 10) {\n    return null;\n  }\n  const [size] = useState(40);\n  return <AbsoluteFill>{size}</AbsoluteFill>;"
)
STATE_DRIVEN = video(
    "  const [x, setX] = useState(0);\n  useEffect(() => {\n    setX(frame * 4);\n  }, [frame]);\n"
    "  return <AbsoluteFill style={{backgroundColor: '#203060', left: x}} />;"
)
WAITS_FOR_A_FONT = video(
    "  const {delayRender, continueRender} = useDelayRender();\n  const [ready, setReady] = useState(false);\n"
    "  useLayoutEffect(() => {\n    const handle = delayRender('data');\n    Promise.resolve().then(() => {\n"
    "      setReady(true);\n      continueRender(handle);\n    });\n    return () => continueRender(handle);\n"
    "  }, [delayRender, continueRender]);\n"
    "  const x = interpolate(frame, [0, 29], [0, 500], {extrapolateRight: 'clamp'});\n"
    "  return (\n    <AbsoluteFill style={{backgroundColor: '#203060', opacity: ready ? 1 : 0}}>\n"
    "      <div style={{position: 'absolute', left: x, top: 120, width: 100, height: 100, backgroundColor: '#f7b733'}} />\n"
    "    </AbsoluteFill>\n  );"
)
HANDLE_IN_A_RENDER = video(
    "  const {delayRender, continueRender} = useDelayRender();\n"
    "  const [handle] = useState(() => delayRender('data'));\n"
    "  useEffect(() => {\n    continueRender(handle);\n  }, [continueRender, handle]);\n"
    "  return <AbsoluteFill style={{backgroundColor: '#203060'}}>{frame}</AbsoluteFill>;"
)
DISABLED_RULES = video(
    "  // eslint-disable-next-line @typescript-eslint/no-explicit-any\n  const anything: any = frame;\n"
    "  // eslint-disable-next-line jsx-a11y/alt-text\n  const x = interpolate(anything, [0, 29], [0, 500]);\n"
    "  return (\n    <AbsoluteFill style={{backgroundColor: '#203060'}}>\n"
    "      <div style={{position: 'absolute', left: x, top: 120, width: 100, height: 100, backgroundColor: '#f7b733'}} />\n"
    "    </AbsoluteFill>\n  );"
)


@pytest.mark.parametrize(
    ("name", "source", "line", "message"),
    [
        ("lint-hook", CONDITIONAL_HOOK, 11, 'React Hook "useState" is called conditionally'),
        ("lint-state", STATE_DRIVEN, 10, "State changed by an effect is not tied to the frame being rendered"),
        ("lint-handle", HANDLE_IN_A_RENDER, 9, "delayRender() outside an effect runs during a render that React may drop"),
    ],
)
def test_lint_catches_it_on_its_line(session: Session, make_video, name: str, source: str, line: int, message: str) -> None:
    checked = ladder.run(session, make_video(name, {"index.tsx": source}), stills=ladder.Stills.NONE)
    assert checked.error is not None, "lint should have failed"
    assert (checked.error.stage, checked.error.file, checked.error.line) == ("lint", "index.tsx", line)
    assert checked.error.message.startswith(message)
    assert "http" not in checked.error.message


@pytest.mark.parametrize(("name", "source"), [("lint-disable", DISABLED_RULES), ("lint-font-wait", WAITS_FOR_A_FONT)])
def test_lint_accepts_what_is_fine(session: Session, make_video, name: str, source: str) -> None:
    checked = ladder.run(session, make_video(name, {"index.tsx": source}), stills=ladder.Stills.NONE)
    assert checked.error is None, checked.error


def test_a_hallucinated_export_gets_the_one_meant(session: Session, make_video) -> None:
    source = video("  return <AbsoluteFill>{frame}</AbsoluteFill>;").replace(
        "useCurrentFrame, useDelayRender} from 'remotion';", "useCurrentFrame, useFrame} from 'remotion';"
    )
    checked = ladder.run(session, make_video("lint-export", {"index.tsx": source}), stills=ladder.Stills.NONE)
    assert (checked.error.stage, checked.error.file, checked.error.line) == ("typecheck", "index.tsx", 2)
    assert (
        checked.error.message == "TS2305: Module '\"remotion\"' has no exported member 'useFrame'. Did you mean useCurrentFrame?"
    )
