// The jail's judgement of a request from its text alone: the second wall behind the OS jail.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {VideoJail, locateRequest} from '../jail.mjs';

const workspace = () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vidgen-jail-'));
  fs.mkdirSync(path.join(root, 'src', 'videos', 'intro'), {recursive: true});
  fs.mkdirSync(path.join(root, 'node_modules', 'remotion'), {recursive: true});
  return root;
};

test('a video may import its own files and the packages, nothing else', () => {
  const root = workspace();
  const jail = new VideoJail({root, packages: ['remotion'], config: {module: {rules: []}}});
  const folder = jail.owner(path.join(root, 'src', 'videos', 'intro', 'index.tsx'), null);
  assert.equal(folder, path.join(fs.realpathSync(root), 'src', 'videos', 'intro'));
  const problem = (request) => jail.rawProblem(folder, folder, request);
  assert.equal(problem('./Title'), null);
  assert.equal(problem('remotion'), null);
  assert.equal(problem('../other/secret'), 'is outside the video folder');
  assert.equal(problem('../../../.vidgen/keys.json'), 'is outside the video folder');
  assert.equal(problem('/etc/passwd'), 'is an absolute path');
  assert.equal(problem('remotion/../../package.json'), "climbs out of the package 'remotion'");
  assert.match(problem('data:text/javascript,import "/root/.config/vidgen/keys.json"') ?? '', /./, 'a data: module is refused');
  // A file directly in src/videos/ belongs to no video; a path outside src/videos/ neither.
  assert.equal(jail.owner(path.join(root, 'src', 'videos', 'loose.tsx'), null), null);
  assert.equal(jail.owner(path.join(root, 'src', 'Root.tsx'), null), null);
  fs.rmSync(root, {recursive: true});
});

test('a refused request is located at its import, quoted first', () => {
  const root = workspace();
  const file = path.join(root, 'src', 'videos', 'intro', 'index.tsx');
  fs.writeFileSync(file, "// see ./data for why\nimport x from './data';\n");
  assert.deepEqual(locateRequest(file, './data'), {line: 2, column: 15});
  assert.deepEqual(locateRequest(path.join(root, 'missing.tsx'), './data'), {});
  fs.rmSync(root, {recursive: true});
});
