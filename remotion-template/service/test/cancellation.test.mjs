import test from 'node:test';
import assert from 'node:assert/strict';
import {cancellation} from '../cancellation.mjs';

// A stand-in for Remotion's makeCancelSignal: the signal records whether it was cancelled.
const makeCancelSignal = () => {
  const signal = {cancelled: false};
  return {cancelSignal: signal, cancel: () => (signal.cancelled = true)};
};

test('a cancel reaches the signal of a running request', () => {
  const requests = cancellation(makeCancelSignal);
  requests.started(1);
  const signal = requests.signal(1);
  assert.equal(requests.cancel(1), true);
  assert.equal(signal.cancelled, true);
  assert.equal(requests.isCancelled(1), true);
});

test('a cancel that comes before the signal is made cancels it as it is made', () => {
  const requests = cancellation(makeCancelSignal);
  requests.started(2);
  assert.equal(requests.cancel(2), true);
  assert.equal(requests.signal(2).cancelled, true);
});

test('a request that is not running, or has ended, is not cancelled', () => {
  const requests = cancellation(makeCancelSignal);
  assert.equal(requests.cancel(3), false);
  requests.started(3);
  requests.ended(3);
  assert.equal(requests.cancel(3), false);
  assert.equal(requests.isCancelled(3), false);
});
