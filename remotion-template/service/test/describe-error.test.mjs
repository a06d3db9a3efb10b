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
