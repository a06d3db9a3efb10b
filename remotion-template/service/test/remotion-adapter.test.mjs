// The adapter is written for one Remotion: on any other, this fails before a render can.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as adapter from '../remotion-adapter.mjs';

test('the installed Remotion is the version the adapter was written for', () => {
  assert.equal(adapter.installedRemotion(), adapter.WRITTEN_FOR, 'check every use in remotion-adapter.mjs against the new version, then change WRITTEN_FOR');
  // Every Remotion package the workspace pins is that version too (they are released together).
  const {dependencies, devDependencies} = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'package.json'), 'utf8'));
  const pinned = Object.entries({...dependencies, ...devDependencies}).filter(([name]) => name === 'remotion' || name.startsWith('@remotion/'));
  assert.ok(pinned.length >= 10);
  for (const [name, version] of pinned) assert.equal(version, adapter.WRITTEN_FOR, name);
});

test('every internal the service reaches is there, as a function', () => {
  const used = [
    'webpackConfig', 'indexHtml', 'publicFiles', 'makeOrReuseServer', 'serializeProps', 'setPropsAndEnv',
    'seekToFrame', 'waitForReady', 'deserializeProps', 'puppeteerEvaluateWithCatch', 'puppeteerEvaluateWithCatchAndTimeout', 'handleJavascriptException',
    'takeFrame',
  ];
  for (const name of used) assert.equal(typeof adapter[name], 'function', name);
  assert.equal(adapter.serializeProps({a: 1}), '{"a":1}');
  assert.deepEqual(adapter.deserializeProps(adapter.serializeProps({a: [1], b: 'x'})), {a: [1], b: 'x'});
});

// The words the adapter reads errors by, as this Remotion writes them (file under its package, text).
test("the error texts the adapter recognises are the installed Remotion's", () => {
  const texts = [
    ['@remotion/renderer/dist/browser/util.js', 'failed: timeout ${timeout}ms exceeded'],
    ['@remotion/renderer/dist/seek-to-frame.js', 'Timeout (${timeoutInMilliseconds}ms) exceeded'],
    ['remotion/dist/cjs/delay-render.js', 'was called but not cleared after ${timeoutToUse}ms'],
    ['@remotion/renderer/dist/set-props-and-env.js', 'Timed out after ${params.timeoutInMilliseconds}ms while setting up the headless browser'],
    ['@remotion/renderer/dist/puppeteer-evaluate.js', 'Timed out evaluating page function'],
  ];
  for (const [file, text] of texts) {
    assert.ok(fs.readFileSync(path.join(process.cwd(), 'node_modules', file), 'utf8').includes(text), `${file} no longer says '${text}'`);
  }
});

test('timeouts: which, and whether the page never answered', () => {
  const of = (message) => adapter.timeoutOf(new Error(message));
  assert.deepEqual(of('waiting for function failed: timeout 8000ms exceeded'), {pageStuck: true});
  assert.deepEqual(of('Timeout (8000ms) exceeded rendering the component at frame 4. Open delayRender() handles: x'), {pageStuck: false});
  assert.deepEqual(of('A delayRender() "Loading" was called but not cleared after 28000ms. See https://remotion.dev/docs/timeout'), {pageStuck: false});
  assert.deepEqual(of('Timed out after 30000ms while setting up the headless browser. This could be because'), {pageStuck: false});
  assert.deepEqual(adapter.timeoutOf('waiting for x failed: timeout 5ms exceeded'), {pageStuck: true}); // not even an Error
  for (const message of ['boom', 'Navigation timeout of 30000 ms exceeded is not ours', 'timeout in my code']) assert.equal(of(message), null, message);
  assert.equal(adapter.timeoutOf(null), null);
  assert.ok(adapter.evaluationTimedOut(new Error('Timed out evaluating page function "() => 1"')));
  assert.ok(!adapter.evaluationTimedOut(new Error('x Timed out evaluating page function')));
});

test('a full disk, by its code or its words', () => {
  assert.ok(adapter.diskFull(Object.assign(new Error('write failed'), {code: 'ENOSPC'})));
  assert.ok(adapter.diskFull(new Error('ENOSPC: no space left on device, write')));
  assert.ok(adapter.diskFull(new Error('FFmpeg quit with code 1: av_interleaved_write_frame(): No space left on device')));
  assert.ok(!adapter.diskFull(Object.assign(new Error('gone'), {code: 'ENOENT'})));
  assert.ok(!adapter.diskFull(undefined));
});
