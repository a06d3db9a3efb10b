"""`vidgen demo`: the whole loop (create, error, repair, MP4, edit) against a scripted model.

The scripted model's first answer has a deliberate bug, so a newcomer sees the ladder
catch it and the repair turn fix it, in about a minute, with no network and no key.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ReplyError
from ..model.scripted import Scripted
from . import replies

IDEA = "a title card that says 'Hello from vidgen' with a bar growing under it"
EDIT = "add a subtitle under the bar: 'made by a scripted model'"

_TITLE = """\
import React from 'react';
import {AbsoluteFill, interpolate, spring, useCurrentFrame, useVideoConfig} from 'remotion';
import {loadFont} from '@remotion/fonts';
import interBold from '@fontsource/inter/files/inter-latin-800-normal.woff2';

loadFont({family: 'Inter', url: interBold, weight: '800'});

export const config = {durationInFrames: 60, fps: 30, width: 640, height: 360};

const TitleCard: React.FC = () => {
  const frame = useCurrentFrame();
  const {fps} = useVideoConfig();
  const rise = spring({frame, fps, config: {damping: 200}});
  const bar = interpolate(frame, [10, 45], [0, 320], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{justifyContent: 'center', alignItems: 'center', background: 'linear-gradient(135deg, #0b1020, #1d2b64)'}}>
      <div style={{fontFamily: 'Inter', fontWeight: 800, fontSize: 48, color: TITLE_COLOUR, opacity: rise, transform: `translateY(${(1 - rise) * 40}px)`}}>
        Hello from vidgen
      </div>
      <div style={{height: 8, width: bar, marginTop: 16, borderRadius: 4, background: '#f7b733'}} />
__SUBTITLE__    </AbsoluteFill>
  );
};

export default TitleCard;
"""

_SUBTITLE = """\
      <div style={{fontFamily: 'Inter', fontSize: 22, marginTop: 18, color: '#c9d4ff', opacity: interpolate(frame, [30, 50], [0, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'})}}>
        made by a scripted model
      </div>
"""

BUGGY = _TITLE.replace("__SUBTITLE__", "")
FIXED = BUGGY.replace("const TitleCard: React.FC", "const TITLE_COLOUR = 'white';\n\nconst TitleCard: React.FC")
EDITED = FIXED.replace("__SUBTITLE__", "").replace("    </AbsoluteFill>", _SUBTITLE + "    </AbsoluteFill>", 1)


def _reply(text: str, why: str) -> str:
    return f"{why}\n\n```tsx index.tsx\n{text}```\n"


def request_kind(messages: list[dict[str, Any]]) -> tuple[str, bool]:
    """What the loop asks for, read from the conversation's shape, never from the prompts' wording.

    The first user message carries the video's files as fenced blocks for an edit and none for a new
    video (blocks are the reply contract, so any rewording of the templates keeps them); a user
    message after an assistant reply is a repair turn, the only reason the loop speaks again.
    """
    users = [m for m in messages if m.get("role") == "user"]
    first = users[0]["content"] if users else ""
    try:
        kind = "edit" if replies.parse(first, "demo", require_index=False) else "new"
    except ReplyError:
        kind = "new"
    repair = any(m.get("role") == "assistant" for m in messages)
    return kind, repair


def script(body: dict[str, Any]) -> Scripted:
    """Answer like a model would: the buggy first draft, then the repair, then the edit."""
    kind, repair = request_kind(body["messages"])
    if kind == "edit":
        return Scripted(_reply(EDITED, "Added the subtitle, fading in after the bar."), reasoning="Add a line below the bar.")
    if repair:
        return Scripted(
            _reply(FIXED, "The colour constant was missing; here it is, defined."), reasoning="TITLE_COLOUR is undefined."
        )
    return Scripted(_reply(BUGGY, "A title card with a growing bar."), reasoning="Title, spring, bar.")


NARRATED_IDEA = "a short narrated explainer of what just happened, with captions"
NARRATION = [
    {"id": "written", "text": "A scripted model wrote this."},
    {"id": "checked", "text": "vidgen checked it, and heard it."},
    {"id": "yours", "text": "Now try your own idea."},
]
_TITLES = {"written": "Written", "checked": "Checked", "yours": "Your turn"}

NARRATED = """\
import React from 'react';
import {AbsoluteFill, Audio, Sequence, interpolate, useCurrentFrame, useVideoConfig} from 'remotion';
import {loadFont} from '@remotion/fonts';
import interBold from '@fontsource/inter/files/inter-latin-800-normal.woff2';
import {scenes, totalFrames, type NarrationScene} from './narration';

loadFont({family: 'Inter', url: interBold, weight: '800'});

export const config = {durationInFrames: totalFrames, fps: 30, width: 640, height: 360};

const TITLES: Record<string, string> = __TITLES__;

const Caption: React.FC<{scene: NarrationScene}> = ({scene}) => {
  const frame = useCurrentFrame();
  const {fps} = useVideoConfig();
  const ms = (frame / fps) * 1000;
  const current = scene.captions.find((caption) => caption.startMs <= ms && ms < caption.endMs);
  if (!current) return null;
  return (
    <div style={{position: 'absolute', bottom: 40, left: 0, right: 0, textAlign: 'center'}}>
      <span style={{fontFamily: 'Inter', fontSize: 22, color: 'white', background: 'rgba(0, 0, 0, 0.65)', padding: '4px 12px', borderRadius: 6}}>
        {current.text}
      </span>
    </div>
  );
};

const Scene: React.FC<{scene: NarrationScene}> = ({scene}) => {
  const frame = useCurrentFrame();
  const rise = interpolate(frame, [0, 12], [30, 0], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
  return (
    <AbsoluteFill style={{justifyContent: 'center', alignItems: 'center', background: 'linear-gradient(135deg, #0b1020, #1d2b64)'}}>
      <div style={{fontFamily: 'Inter', fontWeight: 800, fontSize: 54, color: 'white', transform: `translateY(${rise}px)`}}>
        {TITLES[scene.id] ?? scene.id}
      </div>
      <Caption scene={scene} />
    </AbsoluteFill>
  );
};

const Explainer: React.FC = () => (
  <AbsoluteFill>
    {scenes.map((scene) => (
      <Sequence key={scene.id} from={scene.from} durationInFrames={scene.durationInFrames}>
        <Audio src={scene.audio} />
        <Scene scene={scene} />
      </Sequence>
    ))}
  </AbsoluteFill>
);

export default Explainer;
""".replace("__TITLES__", json.dumps(_TITLES))


def narrated_script(_body: dict[str, Any]) -> Scripted:
    """The demo's last step: a narrated, captioned video, spoken offline by espeak-ng."""
    files = f"```json narration.json\n{json.dumps(NARRATION, indent=2)}\n```\n\n```tsx index.tsx\n{NARRATED}```\n"
    return Scripted(f"Three scenes, each timed to its line, with captions.\n\n{files}", reasoning="Narration first.")
