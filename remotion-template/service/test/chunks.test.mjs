import test from 'node:test';
import assert from 'node:assert/strict';
import {splitRanges, shareOf} from '../chunks.mjs';

const lengths = ({ranges}) => ranges.map(([first, last]) => last - first + 1);

test('chunks are equal but the last, and cover every frame once, in order', () => {
  assert.deepEqual(splitRanges(0, 59, 2), {ranges: [[0, 29], [30, 59]], framesPerChunk: 30});
  assert.deepEqual(splitRanges(0, 39, 3), {ranges: [[0, 13], [14, 27], [28, 39]], framesPerChunk: 14});
  assert.deepEqual(lengths(splitRanges(0, 9, 4)), [3, 3, 3, 1]);
  for (const [frames, n] of [[1, 1], [7, 7], [100, 3], [301, 8], [45, 2]]) {
    const {ranges, framesPerChunk} = splitRanges(0, frames - 1, n);
    const flat = ranges.flat();
    assert.equal(flat[0], 0);
    assert.equal(flat.at(-1), frames - 1);
    for (let i = 1; i + 1 < flat.length; i += 2) assert.equal(flat[i + 1], Number(flat[i]) + 1);
    const sizes = lengths({ranges});
    assert.ok(sizes.slice(0, -1).every((length) => length === framesPerChunk));
    assert.ok(Number(sizes.at(-1)) <= framesPerChunk);
  }
});

test('a split that cannot make n equal chunks makes fewer, never an empty one', () => {
  assert.deepEqual(lengths(splitRanges(0, 8, 4)), [3, 3, 3]);
  assert.deepEqual(splitRanges(10, 19, 2).ranges, [[10, 14], [15, 19]]);
});

test('bad counts are usage errors', () => {
  for (const n of [0, -1, 11, 1.5, NaN]) assert.throws(() => splitRanges(0, 9, n), (/** @type {any} */ err) => err.kind === 'usage');
});

test("each chunk gets its share of the concurrency, at least one", () => {
  assert.equal(shareOf(8, 2), 4);
  assert.equal(shareOf(1, 3), 1);
  assert.equal(shareOf(null, 2, 8), 2);
  assert.equal(shareOf(null, 2, 2), 1);
});
