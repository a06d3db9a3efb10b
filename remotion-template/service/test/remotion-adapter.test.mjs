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
    'seekToFrame', 'puppeteerEvaluateWithCatch', 'puppeteerEvaluateWithCatchAndTimeout', 'handleJavascriptException',
  ];
  for (const name of used) assert.equal(typeof adapter[name], 'function', name);
  assert.equal(adapter.serializeProps({a: 1}), '{"a":1}');
});
