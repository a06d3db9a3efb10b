import test from 'node:test';
import assert from 'node:assert/strict';
import {inspectFrames} from '../layout-frames.mjs';

// A page that inspects two frames per evaluation.
/** @param {number[]} frames @param {{failAt?: number | null}} [options] */
const driver = (frames, {failAt = null} = {}) => {
  /** @type {{at: number[], progress: number[]}} */
  const seen = {at: [], progress: []};
  let index = 0;
  const call = async () => {
    const frame = frames[Math.min(index + 1, frames.length - 1)];
    if (failAt !== null && frames.slice(index, index + 2).includes(failAt)) throw new Error(`thrown at ${failAt}`);
    const done = Math.min(2, frames.length - index);
    index += done;
    return {done, frame, clip: null};
  };
  const page = {evaluate: async () => failAt};
  return {seen, args: {page, frames, call, at: (f) => seen.at.push(f), stopped: () => false, progress: (p) => seen.progress.push(p.frame)}};
};

test('every frame is inspected, in batches, with progress after each', async () => {
  const {seen, args} = driver([0, 3, 6, 9, 12]);
  await inspectFrames(args);
  assert.deepEqual(seen.progress, [3, 9, 12]);
});

test('a failure names the frame the page was at', async () => {
  const {seen, args} = driver([0, 3, 6, 9], {failAt: 6});
  await assert.rejects(inspectFrames(args), /thrown at 6/);
  assert.equal(seen.at.at(-1), 6);
});

test('a cancelled request stops before the next batch', async () => {
  const {args} = driver([0, 3, 6]);
  await assert.rejects(inspectFrames({...args, stopped: () => true}), /cancelled/);
});

test("a frame whose delayRender() never cleared (layout-qa.js's words) is a timeout", async () => {
  const page = {evaluate: async () => 6};
  const call = async () => {
    throw new Error('the page did not render frame 6 within 8000ms: a delayRender() that is never cleared');
  };
  const at = [];
  const failed = await inspectFrames({page, frames: [6], call, at: (f) => at.push(f), stopped: () => false, progress: () => undefined}).catch((err) => err);
  assert.equal(failed.kind, 'timeout');
  assert.deepEqual(at, [6, 6]);
});
