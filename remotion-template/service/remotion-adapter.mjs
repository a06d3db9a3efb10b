// Every use of Remotion beyond its public API, in one place. The bundle reuses the bundler's
// webpack config and index.html; layout QA and the timeline open pages the way the renderer does
// (its page setup, seeking, screenshots, evaluation and error hooks are not exported). Only the version below
// is known to have them: test/remotion-adapter.test.mjs fails on any other.
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';

export const WRITTEN_FOR = '4.0.527';

// Remotion is the workspace's own (the service runs with the workspace as its cwd).
const root = process.cwd();
const require = createRequire(path.join(root, 'package.json'));

// The Remotion this workspace installed (its `ready` event reports it); null when unreadable.
export const installedRemotion = () => {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'remotion', 'package.json'), 'utf8')).version ?? null;
  } catch {
    return null;
  }
};

const rendererFile = (file) => require(path.join(path.dirname(require.resolve('@remotion/renderer')), file));
const {BundlerInternals} = require('@remotion/bundler');
const {RenderInternals} = require('@remotion/renderer');
const {NoReactInternals} = require('remotion/no-react');

// The bundler's webpack config for an entry point, as `bundle()` makes it ([name, config]).
export const webpackConfig = (options) => BundlerInternals.getConfig(options);
// The bundle's index.html, and the public/ listing it embeds.
export const indexHtml = (options) => BundlerInternals.indexHtml(options);
export const publicFiles = (options) => BundlerInternals.readRecursively(options);
// The file server a render uses for a bundle folder.
export const makeOrReuseServer = (server, config, callbacks) => RenderInternals.makeOrReuseServer(server, config, callbacks);
// Input props as the page expects them (with Remotion's special types), and the page's back.
export const serializeProps = (data) => NoReactInternals.serializeJSONWithSpecialTypes({data, indent: undefined, staticBase: null}).serializedString;
export const deserializeProps = (text) => NoReactInternals.deserializeJSONWithSpecialTypes(text);
// A page's setup, seeking and evaluation, as the renderer does them for a still.
export const {setPropsAndEnv} = rendererFile('set-props-and-env.js');
export const {seekToFrame, waitForReady} = rendererFile('seek-to-frame.js');
export const {puppeteerEvaluateWithCatch, puppeteerEvaluateWithCatchAndTimeout} = rendererFile('puppeteer-evaluate.js');
export const {handleJavascriptException} = rendererFile('error-handling/handle-javascript-exception.js');
// A frame's screenshot as renderFrames takes it (the page's background set for the image format first).
export const {takeFrame} = rendererFile('take-frame.js');

// ---------------------------------------------------------------- what its errors say

// Remotion and puppeteer tell their errors apart only in words: these are the words of this version.
const messageOf = (err) => String(err && err.message ? err.message : err);

// A wait that ran out: puppeteer's own timeout (browser/util.js), Remotion's after it asked the page for
// its delayRender() handles (seek-to-frame.js), the page's delayRender() timer (delay-render.js), and its
// wait for the page to set up (set-props-and-env.js). The service's own timeouts carry kind 'timeout'.
const TIMEOUTS = [
  /timeout \d+ms exceeded/,
  /Timeout \(\d+ms\) exceeded/,
  /was called but not cleared after/,
  /Timed out after \d+ms while setting up the headless browser/,
];
// Puppeteer's waitForFunction ran out: the page never answered at all (its main thread never yielded, a
// synchronous endless loop), which load does not explain, unlike a delayRender() that cleared too late.
const PAGE_STUCK = /waiting for .* failed: timeout \d+ms exceeded/;

// How `err` timed out, {pageStuck}, or null when it is no timeout.
export const timeoutOf = (err) => {
  const message = messageOf(err);
  return TIMEOUTS.some((pattern) => pattern.test(message)) ? {pageStuck: PAGE_STUCK.test(message)} : null;
};

// Remotion's own timer around a page evaluation (puppeteerEvaluateWithCatchAndTimeout) ran out.
export const evaluationTimedOut = (err) => /^Timed out evaluating page function/.test(messageOf(err));

// A full disk: Node's error code, or the words of what wrote the file (FFmpeg, Chromium) in Remotion's message.
export const diskFull = (err) => err?.code === 'ENOSPC' || /ENOSPC|No space left on device/.test(messageOf(err));
