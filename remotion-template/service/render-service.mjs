// vidgen's render service: one long-lived process per workspace, driven by vidgen (Python)
// over JSON lines on stdio. It keeps the browser open, the webpack compiler warm, and the
// ESLint and TypeScript programs loaded, so every request after the first is incremental.
//
// The wire protocol (every op, its arguments, events and error kinds) is in PROTOCOL.md beside
// this file; bump PROTOCOL_VERSION here and in vidgen/engine/protocol.py together when it changes.
//
// This file is the protocol: requests in, messages out, and which module serves each op. The warm
// browser is browser.mjs's, the builds builds.mjs's, the renders renders.mjs's, layout QA and the
// timeline page-checks.mjs's, lint and typecheck checker-client.mjs's.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {createRequire} from 'node:module';
import {describeError} from './describe-error.mjs';
import {checkerClient} from './checker-client.mjs';
import {installedRemotion} from './remotion-adapter.mjs';
import {crashReport, warmBrowser} from './browser.mjs';
import {builds} from './builds.mjs';
import {cancellation} from './cancellation.mjs';
import {renders} from './renders.mjs';
import {compositionPages} from './composition-page.mjs';
import {pageChecks} from './page-checks.mjs';

const PROTOCOL_VERSION = 3;
// VIDGEN_TRACE=1 logs when each slow part of a cold start is done (epoch ms, for lining up with the
// checker's and Python's clocks): how the first command's time is spent, without a profiler.
const trace = process.env.VIDGEN_TRACE === '1' ? (what) => console.error(`[trace ${Date.now()}] service: ${what}`) : () => undefined;
trace('started');
const require = createRequire(path.join(process.cwd(), 'package.json'));
const root = process.cwd();

const settings = JSON.parse(process.env.VIDGEN_SERVICE_SETTINGS || '{}');

// Stdout carries the protocol only: anything else that writes there (Remotion's and webpack's
// logs) goes to stderr instead, which vidgen keeps as the service log.
const writeProtocol = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, encoding, callback) => process.stderr.write(chunk, encoding, callback);
for (const level of ['log', 'info', 'debug']) {
  console[level] = (...args) => console.error(...args);
}
const send = (message) => writeProtocol(JSON.stringify(message) + '\n');

const {webpack} = require('@remotion/bundler');
const renderer = require('@remotion/renderer');
trace('bundler and renderer loaded');

const logLevel = settings.logLevel || 'error';
// gl: null is Remotion's own default, the same as `npx remotion render`.
const chromiumOptions = {gl: settings.gl ?? null, headless: true};

// ---------------------------------------------------------------- the parts

const browser = warmBrowser({renderer, settings, chromiumOptions, logLevel, trace});
const requests = cancellation(renderer.makeCancelSignal);
const build = builds({root, settings, webpack, trace});
const media = renders({renderer, browser, chromiumOptions, logLevel, withBundle: build.withBundle, contentOf: build.contentOf, requests});
const checks = pageChecks({
  pages: compositionPages({root, browser, logLevel}),
  compositions: media,
  contentOf: build.contentOf,
  withBundle: build.withBundle,
  requests,
  logLevel,
});
const {lint, typecheck, stop: stopChecker} = checkerClient({root, trace});

// ---------------------------------------------------------------- dispatch

const operations = {
  browser: async () => {
    await browser.get();
    return {open: true};
  },
  bundle: build.bundle,
  lint,
  typecheck,
  metadata: media.metadata,
  // A watch's first still from the page its timeline kept, when there is one.
  stills: async (args, progress, id) => (await checks.keptStills(args, progress, id)) ?? media.stills(args, progress, id),
  still: media.still,
  render: media.render,
  layout: checks.layout,
  timeline: checks.timeline,
  cancel: async ({target}) => ({cancelled: requests.cancel(target)}),
  shutdown: async () => {
    setImmediate(() => shutdown(0));
    return {};
  },
};

const handle = async (request) => {
  const {id, op, ...args} = request;
  const operation = operations[op];
  if (!operation) {
    send({id, error: {kind: 'protocol', message: `unknown op '${op}'`, frame: null, stack: []}});
    return;
  }
  // A kept page is for the stills and layout requests right after its timeline.
  if (op !== 'layout' && op !== 'stills') checks.dropKept();
  requests.started(id);
  trace(`${op} ${id} asked`);
  const crashes = browser.crashes();
  try {
    const result = await operation(args, (event) => send({id, event: 'progress', ...event}), id);
    send({id, result});
    trace(`${op} ${id} done`);
  } catch (err) {
    const crashed = browser.crashes() !== crashes || err?.kind === 'browser-crashed';
    send({id, error: await describeError(err, {cancelled: requests.isCancelled(id), crash: crashed ? crashReport() : null, bundleDir: build.current() || build.folder})});
  } finally {
    requests.ended(id);
  }
};

let closing = false;
const shutdown = async (code) => {
  if (closing) return;
  closing = true;
  try {
    stopChecker();
    await browser.close();
    await build.storeCache();
    trace('cache stored');
  } finally {
    fs.rmSync(build.folder, {recursive: true, force: true});
    process.exit(code);
  }
};

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

const input = readline.createInterface({input: process.stdin});
input.on('line', (line) => {
  if (!line.trim()) return;
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    send({error: {kind: 'protocol', message: 'request is not JSON', frame: null, stack: []}});
    return;
  }
  handle(request);
});
// Python going away closes stdin: nothing is left to serve.
input.on('close', () => shutdown(0));

fs.rmSync(build.folder, {recursive: true, force: true});
// Start the slow parts at once; the first request then finds them under way.
browser.get().catch(() => undefined);
trace('ready');
send({event: 'ready', pid: process.pid, node: process.version, protocol: PROTOCOL_VERSION, remotion: installedRemotion()});
