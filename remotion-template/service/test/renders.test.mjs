import test from 'node:test';
import assert from 'node:assert/strict';
import {renders} from '../renders.mjs';

// A renderer that counts the pages asked for a video's config.
const counting = () => {
  const asked = [];
  const renderer = {
    selectComposition: async ({serveUrl, id}) => {
      asked.push(`${serveUrl} ${id}`);
      return {id, width: 640, height: 360, fps: 30, durationInFrames: 30};
    },
  };
  return {asked, renderer};
};

const media = (renderer, contents) =>
  renders({
    renderer,
    browser: {get: async () => null, noRelaunch: {}},
    chromiumOptions: {},
    logLevel: 'error',
    withBundle: async (work) => work('unused'),
    contentOf: (folder) => contents[folder] ?? folder,
    requests: {signal: () => null},
  });

test("a build of the same content serves the config its page gave, in another folder too", async () => {
  const {asked, renderer} = counting();
  const {selectComposition} = media(renderer, {'/b/1': 'same', '/b/2': 'same'});
  await selectComposition('/b/1', 'a', 1000);
  await selectComposition('/b/1', 'a', 1000);
  await selectComposition('/b/2', 'a', 1000);
  assert.deepEqual(asked, ['/b/1 a']);
  await selectComposition('/b/2', 'b', 1000);
  assert.deepEqual(asked, ['/b/1 a', '/b/2 b']);
});

test('a build of other content asks its page again, and forgets the old ones', async () => {
  const {asked, renderer} = counting();
  const contents = {'/b/1': 'old', '/b/2': 'new'};
  const {selectComposition} = media(renderer, contents);
  await selectComposition('/b/1', 'a', 1000);
  await selectComposition('/b/2', 'a', 1000);
  contents['/b/3'] = 'old';
  await selectComposition('/b/3', 'a', 1000);
  assert.deepEqual(asked, ['/b/1 a', '/b/2 a', '/b/3 a']);
});

test('a page that failed is asked again', async () => {
  let calls = 0;
  const renderer = {
    selectComposition: async ({id}) => {
      if (calls++ === 0) throw new Error('delayRender() timed out');
      return {id, width: 640, height: 360, fps: 30, durationInFrames: 30};
    },
  };
  const {selectComposition} = media(renderer, {'/b/1': 'x'});
  await assert.rejects(selectComposition('/b/1', 'a', 1000));
  assert.equal((await selectComposition('/b/1', 'a', 1000)).durationInFrames, 30);
  assert.equal(calls, 2);
});
