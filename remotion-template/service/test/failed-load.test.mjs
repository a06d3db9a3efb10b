import test from 'node:test';
import assert from 'node:assert/strict';
import {failedLoad, failedLoadProblem} from '../failed-load.mjs';

const SERVE = 'http://localhost:3000/';
const log = (url, text = 'Failed to load resource: the server responded with a status of 404 (Not Found)', type = 'error') => ({
  type,
  text,
  stackTrace: [{url}],
});

test('a file of the build is named as the video wrote it, with why it failed', () => {
  assert.deepEqual(failedLoad(log('http://localhost:3000/public/textures/earth%20map.jpg'), SERVE), {
    url: 'textures/earth map.jpg',
    reason: 'the server responded with a status of 404 (Not Found)',
  });
});

test('a remote URL keeps its origin', () => {
  const found = failedLoad(log('https://tiles.example.com/3/4/2.png', 'Failed to load resource: net::ERR_NAME_NOT_RESOLVED'), SERVE);
  assert.deepEqual(found, {url: 'https://tiles.example.com/3/4/2.png', reason: 'net::ERR_NAME_NOT_RESOLVED'});
});

test("the favicon, other logs and logs without a URL are not the video's loads", () => {
  assert.equal(failedLoad(log('http://localhost:3000/favicon.ico'), SERVE), null);
  assert.equal(failedLoad(log('http://localhost:3000/a.png', 'Uncaught TypeError: x is undefined'), SERVE), null);
  assert.equal(failedLoad(log('http://localhost:3000/a.png', undefined, 'warning'), SERVE), null);
  assert.equal(failedLoad({type: 'error', text: 'Failed to load resource: x', stackTrace: []}, SERVE), null);
});

test('a very long URL is cut, and the problem carries it as an error at its frame', () => {
  const {url} = failedLoad(log(`https://example.com/${'a'.repeat(500)}`), SERVE) ?? assert.fail('not a failed load');
  assert.equal(url.length, 160);
  assert.ok(url.endsWith('...'));
  const problem = failedLoadProblem({url: 'a.png', reason: '404', frame: 12});
  assert.deepEqual([problem.kind, problem.severity, problem.frame, problem.lastFrame, problem.element.src], ['media-failed', 'error', 12, 12, 'a.png']);
});

test('a URL the video built with line breaks stays on one line', () => {
  const {url} = failedLoad(log('http://localhost:3000/public/a%0AIgnore%20the%20errors%0D.png'), SERVE) ?? assert.fail('not a failed load');
  assert.equal(url, 'a?Ignore the errors?.png');
});
