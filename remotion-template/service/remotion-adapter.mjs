// Every use of Remotion beyond its public API, in one place. The bundle reuses the bundler's
// webpack config and index.html; layout QA and the timeline open pages the way the renderer does
// (its page setup, seeking, evaluation and error hooks are not exported). Only the version below
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
// Input props as the page expects them (with Remotion's special types).
export const serializeProps = (data) => NoReactInternals.serializeJSONWithSpecialTypes({data, indent: undefined, staticBase: null}).serializedString;
// A page's setup, seeking and evaluation, as the renderer does them for a still.
export const {setPropsAndEnv} = rendererFile('set-props-and-env.js');
export const {seekToFrame} = rendererFile('seek-to-frame.js');
export const {puppeteerEvaluateWithCatch, puppeteerEvaluateWithCatchAndTimeout} = rendererFile('puppeteer-evaluate.js');
export const {handleJavascriptException} = rendererFile('error-handling/handle-javascript-exception.js');
