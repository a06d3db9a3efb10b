"""Layout QA on real bundles in a real browser: good videos of many styles pass, each broken layout is named."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator

import pytest

from vidgen import settings as settings_module
from vidgen.agent import loop
from vidgen.check import layout
from vidgen.engine.session import Session
from vidgen.errors import Finding
from vidgen.render import ladder
from vidgen.workspace.project import Video, Workspace

from .helpers import model, reply, vidgen

TEASER = """
import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';

export const config = {durationInFrames: 120, fps: 30, width: 640, height: 360};

const Logo: React.FC = () => (
  <div style={{position: 'absolute', left: 230, top: 140, fontSize: 60, fontWeight: 800, color: 'white', fontFamily: 'sans-serif'}}>ACME</div>
);

// A decorative circle over the logo for the first 2.5 s, then it slides away.
const Decoration: React.FC = () => {
  const frame = useCurrentFrame();
  const left = interpolate(frame, [75, 90], [170, 700], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  return <div style={{position: 'absolute', left, top: 60, width: 240, height: 240, borderRadius: 120, backgroundColor: '#f7b733'}} />;
};

const Teaser: React.FC = () => (
  <AbsoluteFill style={{backgroundColor: '#1d2b64'}}>
    <Logo />
    <Decoration />
  </AbsoluteFill>
);

export default Teaser;
"""

# The same teaser fixed: the circle drawn first, behind the logo, and dark enough for white text.
TEASER_FIXED = TEASER.replace("    <Logo />\n    <Decoration />", "    <Decoration />\n    <Logo />").replace(
    "#f7b733", "#8a1c3b"
)

TITLE = """
import React from 'react';
import {AbsoluteFill, interpolate, spring, useCurrentFrame, useVideoConfig} from 'remotion';

export const config = {durationInFrames: 45, fps: 30, width: 640, height: 360};

const TitleCard: React.FC = () => {
  const frame = useCurrentFrame();
  const {fps} = useVideoConfig();
  const rise = spring({frame, fps, config: {damping: 200}});
  const fade = interpolate(frame, [10, 25], [0, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{background: 'linear-gradient(135deg, #141e30, #243b55)', justifyContent: 'center', alignItems: 'center'}}>
      <h1 style={{color: 'white', fontSize: 54, margin: 0, fontFamily: 'sans-serif', transform: `translateY(${(1 - rise) * 40}px)`, opacity: rise}}>
        Quarterly Review
      </h1>
      <p style={{color: '#f7b733', fontSize: 22, marginTop: 12, fontFamily: 'sans-serif', opacity: fade}}>Results for Q3 2025</p>
    </AbsoluteFill>
  );
};

export default TitleCard;
"""

BARS = """
import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';

export const config = {durationInFrames: 45, fps: 30, width: 640, height: 360};

const DATA = [
  {label: 'North', value: 42},
  {label: 'South', value: 77},
  {label: 'East', value: 58},
  {label: 'West', value: 91},
];

const Bar: React.FC<{label: string; value: number; grow: number}> = ({label, value, grow}) => (
  <div style={{display: 'flex', flexDirection: 'column', alignItems: 'center', width: 90}}>
    <div style={{fontSize: 16, color: '#1d2b64', marginBottom: 6, fontWeight: 700}}>{Math.round(value * grow)}%</div>
    <div style={{width: 60, height: value * 2 * grow, backgroundColor: '#fc4a1a', borderRadius: 4}} />
    <div style={{fontSize: 14, color: '#333333', marginTop: 8}}>{label}</div>
  </div>
);

const BarChart: React.FC = () => {
  const frame = useCurrentFrame();
  const grow = interpolate(frame, [0, 30], [0, 1], {extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{backgroundColor: '#f5f5f0', fontFamily: 'sans-serif', padding: 30}}>
      <div style={{fontSize: 24, fontWeight: 700, color: '#1d2b64'}}>Sales by region</div>
      <div style={{display: 'flex', alignItems: 'flex-end', justifyContent: 'center', gap: 30, flex: 1}}>
        {DATA.map((d) => (
          <Bar key={d.label} label={d.label} value={d.value} grow={grow} />
        ))}
      </div>
    </AbsoluteFill>
  );
};

export default BarChart;
"""

ROUTE = """
import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';

export const config = {durationInFrames: 45, fps: 30, width: 640, height: 360};

const CITIES = [
  {name: 'Lisbon', x: 120, y: 250},
  {name: 'Paris', x: 300, y: 140},
  {name: 'Berlin', x: 500, y: 110},
];

const RouteMap: React.FC = () => {
  const frame = useCurrentFrame();
  const progress = interpolate(frame, [0, 40], [0, 1], {extrapolateRight: 'clamp'});
  const path = `M ${CITIES.map((c) => `${c.x} ${c.y}`).join(' L ')}`;
  return (
    <AbsoluteFill style={{backgroundColor: '#0e2a47', fontFamily: 'sans-serif'}}>
      <svg width={640} height={360}>
        <rect x={60} y={60} width={520} height={260} rx={20} fill="#2f5d50" />
        <path d={path} fill="none" stroke="#f7b733" strokeWidth={4} strokeDasharray={600} strokeDashoffset={600 * (1 - progress)} />
        {CITIES.map((c) => (
          <circle key={c.name} cx={c.x} cy={c.y} r={6} fill="#fc4a1a" />
        ))}
      </svg>
      {CITIES.map((c) => (
        <div key={c.name} style={{position: 'absolute', left: c.x + 10, top: c.y - 28, color: 'white', fontSize: 16}}>
          {c.name}
        </div>
      ))}
      <div style={{position: 'absolute', left: 60, top: 24, color: '#f7b733', fontSize: 20, fontWeight: 700}}>Europe by train</div>
    </AbsoluteFill>
  );
};

export default RouteMap;
"""

TALL = """
import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';

export const config = {durationInFrames: 45, fps: 30, width: 360, height: 640};

const VALUES = [12, 30, 22, 45];

const TallChart: React.FC = () => {
  const frame = useCurrentFrame();
  const grow = interpolate(frame, [0, 30], [0, 1], {extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{backgroundColor: '#101820', fontFamily: 'sans-serif', alignItems: 'center'}}>
      <div style={{position: 'absolute', top: 100, color: 'white', fontSize: 28, fontWeight: 700}}>Followers</div>
      <div style={{position: 'absolute', top: 150, bottom: 120, left: 40, right: 40, display: 'flex', alignItems: 'flex-end', gap: 16}}>
        {VALUES.map((v, i) => (
          <div key={i} style={{flex: 1, display: 'flex', flexDirection: 'column', alignItems: 'center'}}>
            <div style={{color: '#fee715', fontSize: 16, marginBottom: 4}}>{Math.round(v * grow)}k</div>
            <div style={{width: '100%', height: v * 7 * grow, backgroundColor: '#fee715'}} />
          </div>
        ))}
      </div>
    </AbsoluteFill>
  );
};

export default TallChart;
"""

DARK = """
import React from 'react';
import {AbsoluteFill, interpolate, useCurrentFrame} from 'remotion';

export const config = {durationInFrames: 45, fps: 30, width: 640, height: 360};

const STOPS = [
  {x: 100, y: 260, label: 'Oslo'},
  {x: 320, y: 120, label: 'Bergen'},
  {x: 540, y: 230, label: 'Tromsø'},
];

const DarkMinimal: React.FC = () => {
  const frame = useCurrentFrame();
  const drawn = interpolate(frame, [0, 40], [0, 1], {extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{backgroundColor: '#0a1128', fontFamily: 'sans-serif'}}>
      <svg width={640} height={360}>
        <polyline points={STOPS.map((s) => `${s.x},${s.y}`).join(' ')} fill="none" stroke="#8fb8de" strokeWidth={1} strokeDasharray="4 4" opacity={drawn} />
        {STOPS.map((s) => (
          <circle key={s.label} cx={s.x} cy={s.y} r={3} fill="#e0e6ef" />
        ))}
      </svg>
      {STOPS.map((s) => (
        <div key={s.label} style={{position: 'absolute', left: s.x - 20, top: s.y + 10, color: '#9fb3c8', fontSize: 11, letterSpacing: 1}}>
          {s.label}
        </div>
      ))}
    </AbsoluteFill>
  );
};

export default DarkMinimal;
"""

FADE = """
import React from 'react';
import {AbsoluteFill} from 'remotion';
import {linearTiming, TransitionSeries} from '@remotion/transitions';
import {fade} from '@remotion/transitions/fade';

export const config = {durationInFrames: 60, fps: 30, width: 640, height: 360};

const Scene: React.FC<{text: string; color: string}> = ({text, color}) => (
  <AbsoluteFill style={{backgroundColor: color, justifyContent: 'center', alignItems: 'center'}}>
    <div style={{color: 'white', fontSize: 48, fontFamily: 'sans-serif'}}>{text}</div>
  </AbsoluteFill>
);

// The second scene fades in over the first: for a few frames it covers it, which is no defect.
const FadeScenes: React.FC = () => (
  <TransitionSeries>
    <TransitionSeries.Sequence durationInFrames={36}>
      <Scene text="Chapter one" color="#1d2b64" />
    </TransitionSeries.Sequence>
    <TransitionSeries.Transition presentation={fade()} timing={linearTiming({durationInFrames: 12})} />
    <TransitionSeries.Sequence durationInFrames={36}>
      <Scene text="Chapter two" color="#5b1d64" />
    </TransitionSeries.Sequence>
  </TransitionSeries>
);

export default FadeScenes;
"""


def still(jsx: str, root: str = "") -> str:
    """A 1 s, 640x360 video showing `jsx` on a navy background."""
    return (
        "import React from 'react';\n"
        "import {AbsoluteFill} from 'remotion';\n\n"
        "export const config = {durationInFrames: 30, fps: 30, width: 640, height: 360};\n\n"
        "const Broken: React.FC = () => (\n"
        f"  <AbsoluteFill {root}style={{{{backgroundColor: '#1d2b64', fontFamily: 'sans-serif'}}}}>\n"
        f"{textwrap.indent(textwrap.dedent(jsx).strip(), '    ')}\n"
        "  </AbsoluteFill>\n"
        ");\n\n"
        "export default Broken;\n"
    )


OVERLAP = """
<div style={{position: 'absolute', left: 200, top: 150, fontSize: 32, color: 'white'}}>Revenue up</div>
<div style={{position: 'absolute', left: 230, top: 160, fontSize: 32, color: '#f7b733'}}>Costs down</div>
"""

BROKEN = {
    "layout-offscreen": still(
        "<div style={{position: 'absolute', left: 470, top: 150, fontSize: 40, color: 'white', whiteSpace: 'nowrap'}}>Limited offer</div>"
    ),
    "layout-clipped": still(
        """
        <div style={{position: 'absolute', left: 100, top: 150, width: 160, height: 50, overflow: 'hidden', backgroundColor: '#fc4a1a'}}>
          <div style={{fontSize: 36, color: 'white', whiteSpace: 'nowrap'}}>Grand opening</div>
        </div>
        """
    ),
    "layout-ellipsis": still(
        "<div style={{position: 'absolute', left: 100, top: 150, width: 200, fontSize: 30, color: 'white', whiteSpace: 'nowrap',"
        " overflow: 'hidden', textOverflow: 'ellipsis'}}>Subscribe to the channel</div>"
    ),
    "layout-safe": still("<div style={{position: 'absolute', left: 4, top: 150, fontSize: 24, color: 'white'}}>Edge label</div>"),
    "layout-overlap": still(OVERLAP),
    "layout-contrast": still(
        "<div style={{position: 'absolute', left: 200, top: 150, fontSize: 32, color: '#2a3a70'}}>Hard to read</div>"
    ),
    "layout-tiny": still(
        "<div style={{position: 'absolute', left: 200, top: 150, fontSize: 4, color: 'white'}}>Fine print nobody reads</div>"
    ),
    # The opt-out names one kind on one element: its overlap is silenced, its closeness to the edge is not.
    "layout-allow": still(
        """
        <div data-qa-allow="overlap" style={{position: 'absolute', left: 4, top: 150, fontSize: 32, color: 'white'}}>Revenue up</div>
        <div style={{position: 'absolute', left: 34, top: 160, fontSize: 32, color: '#f7b733'}}>Costs down</div>
        """
    ),
    # On the whole scene it would silence the whole video: it is ignored there.
    "layout-allow-all": still(OVERLAP, root='data-qa-allow="overlap" '),
}

GOOD = {
    "layout-title": TITLE,
    "layout-bars": BARS,
    "layout-route": ROUTE,
    "layout-tall": TALL,
    "layout-dark": DARK,
    "layout-fade": FADE,
}


@pytest.fixture
def session(qa_session: Session) -> Session:
    """Every test here inspects layout: the shared service with QA on."""
    return qa_session


@pytest.fixture(scope="module")
def videos(workspace: Workspace) -> Iterator[dict[str, Video]]:
    """Every video of this file written at once, so that one bundle serves them all."""
    sheet = (workspace.root / "API.md").read_text()
    sources = {
        **GOOD,
        **BROKEN,
        "layout-map": sheet.split("```tsx map-example\n", 1)[1].split("```", 1)[0],
        "layout-teaser": TEASER,
        "layout-teaser-fixed": TEASER_FIXED,
    }
    made = {}
    for name, source in sources.items():
        video = workspace.video(name)
        shutil.rmtree(video.folder, ignore_errors=True)
        video.folder.mkdir(parents=True)
        video.entry.write_text(textwrap.dedent(source).lstrip())
        made[name] = video
    made["hello"] = workspace.video("hello")
    yield made
    for name, video in made.items():
        if name != "hello":
            shutil.rmtree(video.folder, ignore_errors=True)


def kinds(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


@pytest.mark.render
def test_the_hidden_logo_fails_check_with_occluded_and_passes_fixed(session: Session, videos) -> None:
    result = ladder.run(session, videos["layout-teaser"])
    error = result.error
    assert error is not None and error.stage == "layout", error
    assert error.frame is not None and 0 <= error.frame < 75  # the circle covers the logo for frames 0 to 74
    assert "'ACME'" in error.message and "hidden behind a div with background #f7b733" in error.message
    assert (error.file, error.line) == ("index.tsx", 7)  # the logo's text in the code
    assert "index.tsx:14" in error.message  # and the circle that covers it
    occluded = [f for f in result.findings if f.kind == "occluded"]
    assert len(occluded) == 1 and occluded[0].severity == "error" and occluded[0].element == "div 'ACME' in <Logo>"
    assert list(result.timings) == [stage for stage in ladder.STAGES if stage != "sound"]  # no narration or music here

    fixed = ladder.run(session, videos["layout-teaser-fixed"])
    assert fixed.error is None, fixed.error
    assert "occluded" not in kinds(fixed.findings)


@pytest.mark.render
@pytest.mark.parametrize("name", ["hello", "layout-map", *GOOD])
def test_good_videos_give_no_error_finding(session: Session, videos, name: str) -> None:
    result = ladder.run(session, videos[name])
    assert result.error is None, result.error
    assert "layout" in result.timings
    assert [f for f in result.findings if f.severity == "error"] == []


@pytest.mark.render
@pytest.mark.parametrize(
    ("name", "kind", "severity", "line", "fragments"),
    [
        ("layout-offscreen", "offscreen", "error", 8, ["'Limited offer'", "right edge"]),
        (
            "layout-clipped",
            "clipped",
            "error",
            9,
            ["'Grand opening'", "hides its overflow", "its container (div in index.tsx:8)"],
        ),
        ("layout-ellipsis", "clipped", "error", 8, ["'Subscribe to the channel'", "ellipsis", "200px box"]),
        ("layout-safe", "safe-area", "warning", 8, ["'Edge label'", "4px from the left edge", "32px safe margin"]),
        ("layout-overlap", "overlap", "warning", 8, ["'Revenue up'", "overlaps the text 'Costs down'"]),
        ("layout-contrast", "contrast", "error", 8, ["'Hard to read'", "#2a3a70 on #1d2b64", "below 3"]),
        ("layout-tiny", "tiny", "warning", 8, ["'Fine print nobody reads'", "4px high", "at least 5.4px"]),
    ],
)
def test_each_broken_layout_is_named(
    session: Session, videos, name: str, kind: str, severity: str, line: int, fragments: list[str]
) -> None:
    result = ladder.run(session, videos[name])
    assert kinds(result.findings) == [kind], result.findings
    finding = result.findings[0]
    assert finding.severity == severity and (finding.file, finding.frame) == ("index.tsx", 0)
    assert finding.line == line  # the text's own line in the video's code
    for fragment in fragments:
        assert fragment in finding.message, finding.message
    if severity == "error":
        assert result.error is not None and result.error.stage == "layout" and result.error.message == finding.message
        marked = [line for line in (result.error.excerpt or "").splitlines() if line.startswith(">")]
        assert len(marked) == 1 and f" {line} | " in marked[0]
    else:
        assert result.error is None


@pytest.mark.render
def test_the_opt_out_silences_one_kind_on_one_element(session: Session, videos) -> None:
    allowed = ladder.run(session, videos["layout-allow"])
    assert kinds(allowed.findings) == ["safe-area"]
    assert allowed.findings[0].element == "div 'Revenue up' in <Broken>"
    everywhere = ladder.run(session, videos["layout-allow-all"])
    assert kinds(everywhere.findings) == ["overlap"]


@pytest.mark.render
def test_check_json_lists_findings_exits_1_at_layout_and_no_qa_skips_it(workspace: Workspace, videos) -> None:
    done = vidgen("check", "layout-teaser", "--json", cwd=workspace.root, env={"VIDGEN_QA": "1"})
    assert done.returncode == 1, done.stderr
    payload = json.loads(done.stdout)
    assert payload["status"] == "failed" and payload["error"]["stage"] == "layout" and payload["error"]["frame"] == 0
    assert [(f["kind"], f["severity"], f["element"]) for f in payload["findings"]] == [
        ("occluded", "error", "div 'ACME' in <Logo>")
    ]
    fields = {"kind", "severity", "frame", "last_frame", "message", "file", "line", "element", "box"}
    assert set(payload["findings"][0]) == fields

    done = vidgen("check", "layout-teaser", "--json", "--no-qa", cwd=workspace.root, env={"VIDGEN_QA": "1"})
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["status"] == "ok" and payload["findings"] == []
    assert "· layout" not in done.stderr


@pytest.mark.render
def test_the_loop_sends_layout_errors_back_and_warnings_once(session: Session, workspace: Workspace) -> None:
    from vidgen.model.scripted import Scripted, ScriptedModel

    edge = "<div style={{position: 'absolute', left: 4, top: 20, fontSize: 24, color: 'white'}}>Edge label</div>"
    hidden = TEASER.replace("    <Logo />\n", f"    {edge}\n    <Logo />\n")
    offscreen = TEASER_FIXED.replace(
        "    <Logo />\n",
        f"    {edge}\n    <div style={{{{position: 'absolute', left: 560, top: 300, fontSize: 30, color: 'white', whiteSpace: 'nowrap'}}}}>Out here</div>\n    <Logo />\n",
    )
    video = workspace.video("layout-loop")
    try:
        script = [Scripted(reply(hidden)), Scripted(reply(offscreen)), Scripted(reply(TEASER_FIXED))]
        with ScriptedModel(script) as server:
            outcome = loop.run(session, model(server), loop.Request("new", video, "a launch teaser", render=False))
        assert outcome.ok, outcome.error
        errors = [a.error.one_line() for a in outcome.attempts if a.error]  # said when it fails: a CI run saw composition
        assert [a.stage for a in outcome.attempts] == ["layout", "layout", None], errors
        first, second = (server.requests[i]["body"]["messages"][-1]["content"] for i in (1, 2))
        assert "failed at the layout stage" in first
        assert "'ACME'" in first and "hidden behind" in first and "(frame 0)" in first
        assert "Layout warnings" in first and "safe-area: index.tsx:" in first and "'Edge label'" in first
        assert "'Out here'" in second and "right edge" in second
        assert "safe-area" not in second  # a warning is given to the model once
    finally:
        shutil.rmtree(video.folder, ignore_errors=True)
        shutil.rmtree(workspace.state_dir / "history" / video.name, ignore_errors=True)


def test_qa_settings_come_from_vidgen_toml_and_the_environment(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # occluded_seconds was in every vidgen.toml before the 0.3 s rule: such a workspace still loads.
    (tmp_path / "vidgen.toml").write_text("[qa]\nsamples_per_second = 4\nmin_contrast = 4.5\noccluded_seconds = 1.5\n")
    loaded = settings_module.load(tmp_path)
    assert (loaded.qa.enabled, loaded.qa.samples_per_second, loaded.qa.min_contrast) == (True, 4.0, 4.5)
    monkeypatch.setenv("VIDGEN_QA", "0")
    assert settings_module.load(tmp_path).qa.enabled is False
    assert "[qa]" in settings_module.DEFAULT_TOML
    # At least 8 frames for a short video, samples_per_second over a long one, never more than it has.
    assert layout.sample_count(30, 30, loaded.qa) == 8
    assert layout.sample_count(300, 30, loaded.qa) == 40
    assert layout.sample_count(5, 30, loaded.qa) == 5
