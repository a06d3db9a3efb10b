import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';

// layout-qa-report.js is a page script: its factory, run in a context of its own.
const source = fs.readFileSync(new URL('../layout-qa-report.js', import.meta.url), 'utf8');
const factory = vm.runInNewContext(`${source}\nvidgenLayoutQaReport`, {});
const part = factory(() => false, (r) => ({x: r.left, y: r.top, width: r.width, height: r.height}));
// The problems as plain data of this realm (the context's arrays have their own prototypes).
const report = (records, pairs, options) => JSON.parse(JSON.stringify(part.report(records, pairs, options)));

const OPTIONS = {sampleSeconds: 0.5, defectSeconds: 1.5, problemFraction: 0.5, occludedFraction: 0.6};
const element = {getBoundingClientRect: () => ({left: 0, top: -200, width: 100, height: 40})};
const entry = (problems, visible, rendered = visible) => ({
  el: element,
  info: {tag: 'h1', text: 'Title'},
  visible: Array.from({length: visible}, (_, i) => i),
  rendered,
  problems,
});
// A problem of `kind` noted at each sample, at frame sample * 15.
const at = (samples) => samples.map((sample) => ({frame: sample * 15, sample}));

test('a defect counts when it lasts defectSeconds in a row, reported from its first frame to its last', () => {
  assert.deepEqual(report(new Map([[1, entry({clipped: at([0, 1])}, 6)]]), new Map(), OPTIONS), []);
  const [found] = report(new Map([[1, entry({clipped: at([2, 3, 4])}, 6)]]), new Map(), OPTIONS);
  assert.equal(found.kind, 'clipped');
  assert.equal(found.severity, 'error');
  assert.deepEqual([found.frame, found.lastFrame, found.seconds, found.count], [30, 60, 1.5, 3]);
});

test('a warning counts when it lasts most of the time the element is on screen', () => {
  assert.deepEqual(report(new Map([[1, entry({tiny: at([0, 1])}, 6)]]), new Map(), OPTIONS), []);
  const [found] = report(new Map([[1, entry({tiny: at([0, 2, 4, 5])}, 6)]]), new Map(), OPTIONS);
  assert.equal(found.severity, 'warning');
});

test('a text drawn at two samples but never inside the frame is offscreen', () => {
  const [found] = report(new Map([[1, entry({}, 0, 2)]]), new Map(), OPTIONS);
  assert.equal(found.kind, 'offscreen');
  assert.deepEqual(found.detail, {never: true, rect: {x: 0, y: -200, width: 100, height: 40}});
});
