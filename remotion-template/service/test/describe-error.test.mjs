import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {describeError} from '../describe-error.mjs';

const {SourceMapGenerator} = createRequire(path.join(process.cwd(), 'package.json'))('source-map');

// A bundle file whose line 3 comes from line 7 of the video's index.tsx.
const bundle = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vidgen-describe-'));
  const map = new SourceMapGenerator({file: 'bundle.js'});
  map.addMapping({generated: {line: 3, column: 0}, original: {line: 7, column: 2}, source: 'src/videos/intro/index.tsx', name: 'Title'});
  map.setSourceContent('src/videos/intro/index.tsx', 'export default () => null;\n');
  fs.writeFileSync(path.join(dir, 'bundle.js'), '\n\nthrow new Error("boom");\n');
  fs.writeFileSync(path.join(dir, 'bundle.js.map'), map.toString());
  return dir;
};

test("a page's stack is located in the video's own file", async () => {
  const dir = bundle();
  const err = Object.assign(new Error('boom'), {frame: 12});
  err.stack = 'Error: boom\n    at Title (http://localhost:3000/bundle.js:3:1)\n    at run (http://localhost:3000/runtime.js:1:1)';
  const described = await describeError(err, {bundleDir: dir});
  assert.equal(described.kind, 'runtime');
  assert.equal(described.message, 'boom');
  assert.equal(described.frame, 12);
  assert.deepEqual(described.stack, [{file: 'src/videos/intro/index.tsx', line: 7, column: 2, function: 'Title'}]);
  fs.rmSync(dir, {recursive: true});
});

test('kinds: cancelled wins, a kind the error carries is kept, a crash adds its report', async () => {
  const timeout = Object.assign(new Error('Timeout exceeded'), {kind: 'timeout'});
  assert.equal((await describeError(timeout, {bundleDir: '/nowhere'})).kind, 'timeout');
  assert.equal((await describeError(timeout, {cancelled: true, crash: {crashes: 1}, bundleDir: '/nowhere'})).crashes, undefined);
  assert.equal((await describeError(new Error('x'), {cancelled: true, bundleDir: '/nowhere'})).kind, 'cancelled');
  const crashed = await describeError(new Error('Target closed'), {crash: {crashes: 2}, bundleDir: '/nowhere'});
  assert.equal(crashed.crashes, 2);
  // Not even an Error: still one message, no location.
  assert.deepEqual(await describeError('plain text', {bundleDir: '/nowhere'}), {kind: 'runtime', message: 'plain text', frame: null, stack: [], raw: null});
});

const describe = (err, context = {}) => describeError(err, {bundleDir: '/nowhere', ...context});

test("Remotion's and puppeteer's timeouts are kind 'timeout', message kept; pageStuck when the page never answered", async () => {
  const messages = [
    'Timeout (8000ms) exceeded rendering the component at frame 4. Open delayRender() handles: x',
    'A delayRender() "Loading data" was called but not cleared after 8000ms. See https://remotion.dev/docs/timeout for help.',
    'Timed out after 30000ms while setting up the headless browser.',
  ];
  for (const message of messages) {
    const described = await describe(new Error(message));
    assert.deepEqual([described.kind, described.pageStuck, described.message], ['timeout', false, message]);
  }
  const stuck = await describe(Object.assign(new Error('waiting for function failed: timeout 8000ms exceeded'), {frame: 3}));
  assert.deepEqual([stuck.kind, stuck.pageStuck, stuck.frame], ['timeout', true, 3]);
  // The browser that timed out while starting is a timeout like any other.
  assert.equal((await describe(Object.assign(new Error('Timed out after 30000ms while setting up the headless browser.'), {kind: 'browser'}))).kind, 'timeout');
  // The service's own timeouts carry their kind.
  assert.deepEqual(await describe(Object.assign(new Error('Timeout exceeded: frame 4 did not finish'), {kind: 'timeout'})).then((d) => [d.kind, d.pageStuck]), ['timeout', false]);
  // Anything else has no pageStuck.
  assert.ok(!('pageStuck' in (await describe(new Error('boom')))));
});

test("a full disk is kind 'disk-full', by Node's code or the words of what wrote", async () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC', kind: 'internal'});
  assert.deepEqual(await describe(enospc).then((d) => [d.kind, d.message]), ['disk-full', 'ENOSPC: no space left on device, write']);
  const ffmpeg = 'FFmpeg quit with code 1 (av_interleaved_write_frame(): No space left on device)';
  assert.deepEqual(await describe(new Error(ffmpeg)).then((d) => [d.kind, d.message]), ['disk-full', ffmpeg]);
});

test('every error has a kind: cancelled and crashed win over a timeout, the kinds the service gives are kept', async () => {
  const timeout = new Error('waiting for function failed: timeout 8000ms exceeded');
  assert.deepEqual(await describe(timeout, {cancelled: true}).then((d) => [d.kind, 'pageStuck' in d]), ['cancelled', false]);
  assert.deepEqual(await describe(timeout, {crash: {crashes: 1}}).then((d) => [d.kind, 'pageStuck' in d]), ['browser-crashed', false]);
  for (const kind of ['usage', 'protocol', 'browser', 'internal', 'checker-crashed', 'browser-crashed']) {
    assert.equal((await describe(Object.assign(new Error('x'), {kind}))).kind, kind);
  }
  for (const thrown of [undefined, null, 0, '', {}]) assert.equal((await describe(thrown)).kind, 'runtime');
});
