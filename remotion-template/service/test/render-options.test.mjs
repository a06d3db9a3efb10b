import test from 'node:test';
import assert from 'node:assert/strict';
import {renderOptions} from '../render-options.mjs';

const usage = (pattern) => (err) => err.kind === 'usage' && pattern.test(err.message);

test("absent options are Remotion's defaults, and the render makes every frame", () => {
  assert.deepEqual(renderOptions({codec: 'h264'}, 90), {inputProps: {}, scale: 1, frameRange: null, crf: null, chunks: 1, count: 90});
});

test('a frame range counts its frames; one frame is a range of one', () => {
  assert.equal(renderOptions({frameRange: [10, 19], codec: 'h264'}, 90).count, 10);
  assert.equal(renderOptions({frameRange: 5, codec: 'h264'}, 90).count, 1);
  assert.throws(() => renderOptions({frameRange: [10, 90], codec: 'h264'}, 90), usage(/within 0 to 89/));
  assert.throws(() => renderOptions({frameRange: [5, 2], codec: 'h264'}, 90), usage(/frameRange/));
});

test('props must be a plain JSON object of bounded size', () => {
  assert.throws(() => renderOptions({inputProps: [1], codec: 'h264'}, 90), usage(/JSON object/));
  assert.throws(() => renderOptions({inputProps: {text: 'x'.repeat(70000)}, codec: 'h264'}, 90), usage(/over 65536 bytes/));
  assert.deepEqual(renderOptions({inputProps: {title: 'Hi'}, codec: 'h264'}, 90).inputProps, {title: 'Hi'});
});

test("scale and crf stay within Remotion's ranges, crf only for the codecs that take it", () => {
  assert.throws(() => renderOptions({scale: 0, codec: 'h264'}, 90), usage(/scale/));
  assert.throws(() => renderOptions({crf: 52, codec: 'h264'}, 90), usage(/1 to 51/));
  assert.throws(() => renderOptions({crf: 20, codec: 'prores'}, 90), usage(/not prores/));
  assert.equal(renderOptions({crf: 0, codec: 'vp9'}, 90).crf, 0);
});

test('chunks are whole numbers up to the frames, of a whole h264 render', () => {
  assert.equal(renderOptions({chunks: 3, codec: 'h264'}, 90).chunks, 3);
  assert.equal(renderOptions({chunks: 1, codec: 'vp9'}, 90).chunks, 1);
  assert.throws(() => renderOptions({chunks: 0, codec: 'h264'}, 90), usage(/1 to 90/));
  assert.throws(() => renderOptions({chunks: 91, codec: 'h264'}, 90), usage(/1 to 90/));
  assert.throws(() => renderOptions({chunks: 2.5, codec: 'h264'}, 90), usage(/whole number/));
  assert.throws(() => renderOptions({chunks: 2, codec: 'gif'}, 90), usage(/h264 renders only, not gif/));
  assert.throws(() => renderOptions({chunks: 2, frameRange: [0, 9], codec: 'h264'}, 90), usage(/whole video/));
});
