"""The API sheet the model reads: small enough to send every time, and every example in it passes the ladder.

The examples are the sheet's own code blocks (```tsx example:NAME), so the sheet cannot drift from what works.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vidgen import settings as settings_module
from vidgen.engine.protocol import StillsArgs
from vidgen.engine.session import Session
from vidgen.errors import ServiceReplyError
from vidgen.media import probe as media
from vidgen.render import ladder
from vidgen.render import video as render
from vidgen.workspace import resources

SHEET = resources.template_dir() / "API.md"


def example(name: str) -> str:
    return SHEET.read_text().split(f"```tsx example:{name}\n", 1)[1].split("```", 1)[0]


def test_the_sheet_stays_under_four_thousand_tokens() -> None:
    # 13.6k characters were 3,870 tokens (o200k_base, gpt-tokenizer): about 3.5 characters a token.
    assert len(SHEET.read_text()) <= 14_000


def test_every_package_the_sheet_names_is_a_dependency_and_back() -> None:
    import json

    package = json.loads((resources.template_dir() / "package.json").read_text())
    table = SHEET.read_text().split("## Packages", 1)[1].split("\n## ", 1)[0]
    for name in package["dependencies"]:
        assert f"`{name}`" in table, f"{name} is importable but the sheet does not say what it is for"


@pytest.mark.parametrize(("name", "frames"), [("scenes", 150), ("chart", 30), ("fonts", 30)])
def test_the_sheets_examples_pass_the_ladder(session: Session, make_video, name: str, frames: int) -> None:
    video = make_video(f"sheet-{name}", {"index.tsx": example(name)})
    checked = ladder.run(session, video)
    assert checked.error is None, checked.error
    assert checked.composition is not None and checked.composition.frames == frames
    assert len(checked.stills) == session.settings.render.sample_stills


def test_the_font_example_measures_the_loaded_font_and_fits_the_frame(qa_session: Session, make_video) -> None:
    """Measured before Inter loaded, the title would be sized for the fallback font; the layout QA sees it cut."""
    video = make_video("sheet-fonts-qa", {"index.tsx": example("fonts")})
    checked = ladder.run(qa_session, video)
    assert checked.error is None, checked.error
    assert [f.kind for f in checked.findings if f.severity == "error"] == []


# The pattern the sheet used to teach: the handle taken in a state initializer. React drops a render
# now and then (a retry after a suspension, an interrupted first render), and a handle taken in a
# dropped render is never cleared: about one cold layout QA page in sixteen timed out on it.
DROPPED_HANDLE = """\
  const {delayRender, continueRender} = useDelayRender();
  const [handle] = useState(() => delayRender('measure the title once Inter is loaded'));
  const [ready, setReady] = useState(false);
  useEffect(() => {
    interLoaded.then(() => {
      setReady(true);
      continueRender(handle);
    });
  }, [continueRender, handle]);
  if (!ready) return null;
"""


def with_a_lazy_sibling(source: str) -> dict[str, str]:
    """The example beside a lazily loaded component: its first render suspends and React drops the whole
    tree's work, the title's included, every time (what happened by chance, made certain)."""
    source = source.replace(
        "const Title: React.FC = () => (", "const Note = React.lazy(() => import('./Note'));\n\nconst Title: React.FC = () => ("
    )
    source = source.replace('<FittedTitle text="Quarterly results" />', '<FittedTitle text="Quarterly results" />\n    <Note />')
    note = "import React from 'react';\n\nconst Note: React.FC = () => <div style={{color: 'white', fontSize: 20}}>Q3</div>;\n\nexport default Note;\n"
    return {"index.tsx": source, "Note.tsx": note}


def the_old_pattern(source: str) -> str:
    start = source.index("  const {delayRender, continueRender} = useDelayRender();")
    end = source.index("  if (!loaded) return null;\n") + len("  if (!loaded) return null;\n")
    old = source[:start] + DROPPED_HANDLE + source[end:]
    return old.replace(
        "import React, {useLayoutEffect, useState} from 'react';", "import React, {useEffect, useState} from 'react';"
    )


def test_the_font_example_survives_a_dropped_render_on_a_cold_service(own_session: Session, make_video) -> None:
    qa = Session(own_session.workspace, settings_module.with_qa(own_session.settings, enabled=True), own_session.service)
    video = make_video("sheet-fonts-dropped", with_a_lazy_sibling(example("fonts")))
    for attempt in range(3):  # the first on a cold service; each check opens new pages
        checked = ladder.run(qa, video)
        assert checked.error is None, (attempt, checked.error)
        assert [f.kind for f in checked.findings if f.severity == "error"] == []


def test_the_old_font_pattern_times_out_on_a_dropped_render(session: Session, make_video) -> None:
    # The control for the test above: the same video with the handle in a state initializer (which lint
    # now refuses, so the pages are asked directly) never finishes its first frame.
    make_video("sheet-fonts-old", with_a_lazy_sibling(the_old_pattern(example("fonts"))))
    session.service.bundle(timeout_s=240)
    folder = session.workspace.state_dir / "stills" / "sheet-fonts-old"
    with pytest.raises(ServiceReplyError) as timed_out:
        session.service.stills(StillsArgs("sheet-fonts-old", [0], str(folder), 8000), timeout_s=120)
    assert "measure the title once Inter is loaded" in str(timed_out.value) and "not cleared" in str(timed_out.value)


def test_lint_refuses_the_old_font_pattern(session: Session, make_video) -> None:
    checked = ladder.run(session, make_video("sheet-fonts-lint", {"index.tsx": the_old_pattern(example("fonts"))}))
    assert checked.error is not None and checked.error.stage == "lint", checked.error
    assert checked.error.message.startswith("delayRender() outside an effect runs during a render that React may drop")


def test_the_3d_example_renders_a_spinning_cube(session: Session, make_video, tmp_path: Path) -> None:
    video = make_video("sheet-three", {"index.tsx": example("three")})
    result = render.render(session, video, output=tmp_path / "cube.mp4", previews=False)
    assert result.error is None, result.error
    probe = media.probe(result.output, session.workspace)
    assert (probe.width, probe.height, probe.frames) == (640, 360, 30)
    stills = {s["frame"]: hashlib.sha256(Path(s["path"]).read_bytes()).hexdigest() for s in ladder.run(session, video).stills}
    # Frames 0 and 29 are half a turn apart and look alike; the frames between show other faces.
    assert len(set(stills.values())) >= 3, "the cube should turn"


EXTRAS = """\
import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';
import {line} from 'd3-shape';
import {makeTransform, rotate, translate} from '@remotion/animation-utils';
import {Trail} from '@remotion/motion-blur';
import {evolvePath} from '@remotion/paths';

export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};
const POINTS: [number, number][] = [[40, 300], [200, 120], [360, 220], [600, 60]];

const Extras: React.FC = () => {
  const frame = useCurrentFrame();
  const progress = interpolate(frame, [0, 29], [0, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  const path = line()(POINTS) ?? '';
  const {strokeDasharray, strokeDashoffset} = evolvePath(progress, path);
  return (
    <AbsoluteFill style={{backgroundColor: '#0b1320'}}>
      <svg width={640} height={360}>
        <path d={path} fill="none" stroke="#4ade80" strokeWidth={4} strokeDasharray={strokeDasharray} strokeDashoffset={strokeDashoffset} />
      </svg>
      <Trail layers={4} lagInFrames={0.5} trailOpacity={0.6}>
        <div style={{position: 'absolute', width: 60, height: 60, background: '#f7b733', transform: makeTransform([translate(40 + progress * 480, 150), rotate(progress * 180)])}} />
      </Trail>
    </AbsoluteFill>
  );
};

export default Extras;
"""


def test_the_other_packages_the_sheet_lists_pass_the_ladder(session: Session, make_video) -> None:
    """d3-shape, @remotion/animation-utils and @remotion/motion-blur, named in the sheet's table but not its examples."""
    checked = ladder.run(session, make_video("sheet-extras", {"index.tsx": EXTRAS}))
    assert checked.error is None, checked.error
    assert len(checked.stills) == session.settings.render.sample_stills
