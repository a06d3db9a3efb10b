// An exception as the protocol's error: its kind, message, frame and the stack located in the
// video's own files. Remotion symbolicates stack traces only through its own CLI; they are mapped
// here from the bundle's source maps (with the `source-map` package, as Remotion does).
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {diskFull, timeoutOf} from './remotion-adapter.mjs';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const {SourceMapConsumer} = require('source-map');
const STACK_LINE = /at (?:(.+?) \()?https?:\/\/[^/]+\/([^:)]+):(\d+):(\d+)\)?/;

const readSourceMap = async (file) => {
  try {
    return await new SourceMapConsumer(fs.readFileSync(file, 'utf8'));
  } catch {
    return null; // a map that cannot be read leaves its frames unlocated
  }
};

// The frames of `err`'s stack that a source map of `bundleDir` places in a source it carries.
export const symbolicate = async (err, bundleDir) => {
  if (err.symbolicatedStackFrames && err.symbolicatedStackFrames.length) return err.symbolicatedStackFrames;
  const frames = String(err.stack || '')
    .split('\n')
    .map((line) => STACK_LINE.exec(line))
    .filter((match) => match !== null)
    .map(([, functionName, file, line, column]) => ({functionName: functionName || null, file: path.join(bundleDir, file), line: Number(line), column: Number(column)}))
    .filter((frame) => fs.existsSync(frame.file + '.map'));
  const maps = new Map(); // bundle file -> its source map, read once per error
  const located = [];
  for (const frame of frames) {
    if (!maps.has(frame.file)) maps.set(frame.file, await readSourceMap(frame.file + '.map'));
    const map = maps.get(frame.file);
    const original = map?.originalPositionFor({line: frame.line, column: frame.column});
    // Like Remotion's own: only frames whose source the map carries (the bundler's runtime has none).
    if (!original?.source || !map.sourceContentFor(original.source, true)) continue;
    located.push({
      originalFileName: original.source,
      originalLineNumber: original.line,
      originalColumnNumber: original.column,
      originalFunctionName: frame.functionName,
    });
  }
  for (const map of maps.values()) map?.destroy?.();
  return located;
};

// The kind of error `err` is (PROTOCOL.md), and a timeout's `pageStuck`: a full disk or a timeout whatever
// threw it (a browser that timed out starting is a timeout), else the kind the service gave it, else 'runtime'.
export const kindOf = (err) => {
  if (diskFull(err)) return {kind: 'disk-full'};
  const timeout = timeoutOf(err);
  if (timeout || err?.kind === 'timeout') return {kind: 'timeout', pageStuck: timeout?.pageStuck ?? false};
  return {kind: err?.kind || 'runtime'};
};

// `bundleDir`: where the error's bundle is when the error does not say (err.bundleDir);
// `crash`: what to add when the browser crashed (its count and advice).
/** @param {any} err what was thrown @param {{cancelled?: boolean, crash?: object | null, bundleDir: string}} context */
export const describeError = async (err, {cancelled = false, crash = null, bundleDir}) => {
  let stack = [];
  try {
    stack = (await symbolicate(err || {}, err?.bundleDir || bundleDir))
      .filter((f) => f && f.originalFileName)
      .map((f) => ({file: f.originalFileName, line: f.originalLineNumber, column: f.originalColumnNumber, function: f.originalFunctionName}));
  } catch {
    // An error without a usable stack is still reported, just without a location.
  }
  return {
    // A crash replaces the kind (and message) with its report: what the request was doing when the browser died says little.
    ...(cancelled ? {kind: 'cancelled'} : crash ? {kind: 'browser-crashed'} : kindOf(err)),
    message: String(err && err.message ? err.message : err),
    ...(crash && !cancelled ? crash : {}),
    frame: typeof err?.frame === 'number' ? err.frame : null,
    stack,
    raw: err && err.stack ? String(err.stack).slice(0, 4000) : null,
  };
};
