import test from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import {LAYOUT_QA_FILES, pageScript} from '../page-script.mjs';

test("layout QA's files joined install its API, and nothing else on the page's globals", () => {
  const page = vm.createContext({window: {}});
  vm.runInContext(pageScript(LAYOUT_QA_FILES), page);
  const api = page.window.__vidgenLayoutQa;
  for (const method of ['configure', 'sample', 'measure', 'report']) assert.equal(typeof api[method], 'function', method);
  assert.deepEqual(Object.keys(page.window), ['__vidgenLayoutQa']);
  assert.deepEqual(Object.keys(vm.runInContext('globalThis', page)), ['window']);
});

test('every layout-qa part file is joined, layout-qa.js last', async () => {
  const fs = await import('node:fs');
  const parts = fs.readdirSync(new URL('..', import.meta.url)).filter((file) => /^layout-qa.*\.js$/.test(file));
  assert.deepEqual([...LAYOUT_QA_FILES].sort(), parts.sort());
  assert.equal(LAYOUT_QA_FILES.at(-1), 'layout-qa.js');
});
