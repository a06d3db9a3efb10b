"""The scripted model's side of a storyboarded video: `vidgen demo`'s last video and the tests' model.

`StoryScript` answers the storyboard request with a storyboard, and each scene's requests (its first and
its repairs) with that scene's next reply, whatever order the concurrent calls arrive in.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from ..model.scripted import Scripted

IDEA = "a storyboarded explainer of how vidgen builds a longer video, scene by scene"
_SCENE = re.compile(r'^Your scene: "([a-z][a-z0-9-]*)"', re.MULTILINE)


def scene_source(scene_id: str, bug: bool = False) -> str:
    """A small scene: its line's words appear as they are spoken, a bar slides under them."""
    broken = "  const late: number = 'a string';\n" if bug else ""
    return f"""import React from 'react';
import {{AbsoluteFill, interpolate, useCurrentFrame}} from 'remotion';
import {{design}} from '../design';
import {{sceneById}} from '../narration';

const Scene: React.FC = () => {{
  const frame = useCurrentFrame();
{broken}  const spoken = sceneById('{scene_id}').words.filter((word) => word.frame <= frame).map((word) => word.text);
  const x = interpolate(frame, [0, 30], [0, 200], {{extrapolateLeft: 'clamp', extrapolateRight: 'clamp'}});
  return (
    <AbsoluteFill style={{{{backgroundColor: design.palette.background, justifyContent: 'center', alignItems: 'center'}}}}>
      <div style={{{{color: design.palette.text, fontFamily: 'sans-serif', fontSize: design.typeScale.body, textAlign: 'center', padding: '0 12%'}}}}>
        {{spoken.join(' ')}}
      </div>
      <div style={{{{position: 'absolute', left: 60 + x, bottom: 60, width: 80, height: 14, backgroundColor: design.palette.accent}}}} />
    </AbsoluteFill>
  );
}};

export default Scene;
"""


def board(lines: dict[str, str], title: str = "How vidgen builds a longer video") -> dict[str, Any]:
    """A storyboard with one scene per (id, narration line)."""
    return {
        "title": title,
        "design": {
            "palette": {"background": "#0b1d3a", "text": "#ffffff", "accent": "#f7b733"},
            "fonts": {"heading": "Inter"},
            "type_scale": {"heading": 36, "body": 24},
            "spacing": [8, 16, 32],
            "motion": "calm",
        },
        "scenes": [
            {"id": i, "purpose": f"scene {n + 1}", "narration": line, "on_screen": "The words as they are said.", "seconds": 2}
            for n, (i, line) in enumerate(lines.items())
        ],
    }


def fenced(text: str, path: str, language: str = "tsx") -> str:
    return f"Here it is.\n\n```{language} {path}\n{text.rstrip()}\n```\n"


class StoryScript:
    """A script for ScriptedModel: the storyboard replies in order, then each scene's replies in order."""

    def __init__(self, storyboards: list[str], scenes: dict[str, list[str]], delay_s: float = 0.0):
        self.storyboards, self.delay_s = list(storyboards), delay_s  # delay_s: a scene reply's thinking time
        self.scenes = {scene_id: list(sources) for scene_id, sources in scenes.items()}
        self.asked: list[str] = []  # which conversation each request belonged to: "storyboard" or a scene id
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Scripted:
        texts = [m.get("content") for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
        found = _SCENE.search(texts[0]) if texts and isinstance(texts[0], str) else None
        with self._lock:
            if found is None:
                self.asked.append("storyboard")
                left = self.storyboards
                reply = fenced(left.pop(0), "storyboard.json", "json") if left else ""
            else:
                self.asked.append(found[1])
                queue = self.scenes.get(found[1], [])
                reply = fenced(queue.pop(0), f"scenes/{found[1]}.tsx") if queue else ""
        if not reply:
            return Scripted(status=500, error_message="the script has no reply left for this request")
        return Scripted(content=reply, delay_s=0.0 if found is None else self.delay_s)


DEMO_LINES = {
    "plan": "First the model writes a storyboard: a title, one design for every scene, and four scenes, each with"
    " its purpose, its spoken line and what the picture shows.",
    "voice": "Then every line is spoken before any picture is drawn, and each scene lasts exactly as long as its line,"
    " plus a short pause.",
    "scenes": "Each scene is written by its own model call, all of them at once, with the storyboard and the design in view.",
    "repair": "This scene arrived with a type error. Only this scene went back to the model, and the other three were"
    " never sent again.",
}


def demo_script() -> StoryScript:
    """The demo's storyboarded video: four scenes; the third arrives with a type error and is repaired alone."""
    sources = {scene_id: [scene_source(scene_id)] for scene_id in DEMO_LINES}
    sources["scenes"] = [scene_source("scenes", bug=True), scene_source("scenes")]
    return StoryScript([json.dumps(board(DEMO_LINES), indent=2)], sources)
