// vidgen's render service: one long-lived process per workspace, driven by vidgen (Python)
// over JSON lines on stdio. It keeps the browser open, the webpack compiler warm, and the
// ESLint and TypeScript programs loaded, so every request after the first is incremental.
//
// The wire protocol (every op, its arguments, events and error kinds) is in PROTOCOL.md beside
// this file; bump PROTOCOL_VERSION here and in vidgen/engine/protocol.py together when it changes.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {createRequire} from 'node:module';
import {jailed, locateRequest} from './jail.mjs';
import {inspectFrames} from './layout-frames.mjs';
import sourceLocations from './source-locations.cjs';
import {describeError} from './describe-error.mjs';
import {checkerClient} from './checker-client.mjs';
import {failedLoad, failedLoadProblem} from './failed-load.mjs';
import {
  evaluationTimedOut,
  handleJavascriptException,
  indexHtml,
  installedRemotion,
  makeOrReuseServer,
  publicFiles,
  puppeteerEvaluateWithCatch,
  puppeteerEvaluateWithCatchAndTimeout,
  seekToFrame,
  serializeProps,
  setPropsAndEnv,
  webpackConfig,
} from './remotion-adapter.mjs';

const PROTOCOL_VERSION = 3;
// VIDGEN_TRACE=1 logs when each slow part of a cold start is done (epoch ms, for lining up with the
// checker's and Python's clocks): how the first command's time is spent, without a profiler.
const trace = process.env.VIDGEN_TRACE === '1' ? (what) => console.error(`[trace ${Date.now()}] service: ${what}`) : () => undefined;
trace('started');
const require = createRequire(path.join(process.cwd(), 'package.json'));
const root = process.cwd();

const settings = JSON.parse(process.env.VIDGEN_SERVICE_SETTINGS || '{}');
const stateDir = path.join(root, '.vidgen');
// Each build goes to a new folder, .vidgen/bundle/<id>/<generation>/: a render that started on
// one build keeps reading it while the next build is written (batch runs both at once), and two
// services on one workspace never share one. The id comes from Python (its pid and a token):
// inside the jail's own pid namespace every service has the same small pid and cannot see which
// others are alive, so Python removes the folders of services whose vidgen is gone. A generation
// is deleted once it is neither the newest nor in use.
const bundleRoot = path.join(stateDir, 'bundle', String(settings.bundleId ?? process.pid));
const generations = new Map(); // folder -> requests using it
let generation = 0;
let currentBundle = null;

const releaseBundle = (folder) => {
  const users = (generations.get(folder) ?? 1) - 1;
  generations.set(folder, users);
  if (users <= 0 && folder !== currentBundle) {
    generations.delete(folder);
    fs.rmSync(folder, {recursive: true, force: true});
  }
};

// Run `work` on the newest build, which stays on disk until it is done.
const withBundle = async (work) => {
  await building; // never start reading a build that is being written
  if (!currentBundle) throw Object.assign(new Error('nothing is bundled yet: bundle first'), {kind: 'protocol'});
  const folder = currentBundle;
  generations.set(folder, (generations.get(folder) ?? 0) + 1);
  try {
    return await work(folder);
  } catch (err) {
    if (err && typeof err === 'object') err.bundleDir = folder;
    throw err;
  } finally {
    releaseBundle(folder);
  }
};

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

// ---------------------------------------------------------------- browser

let browserPromise = null;
const getBrowser = () => {
  if (!browserPromise) {
    const opening = renderer
      .openBrowser('chrome', {
        browserExecutable: settings.browser || null,
        chromeMode: 'chrome-for-testing',
        chromiumOptions,
        logLevel,
      })
      .then(denyDownloads)
      .then((browser) => {
        trace('browser open');
        return watchBrowser(browser, opening);
      }, (err) => {
        browserPromise = null;
        throw Object.assign(err, {kind: 'browser'});
      });
    browserPromise = opening;
  }
  return browserPromise;
};

// A video's effect may click an <a download>: Chromium would save the file in $HOME/Downloads
// (a check could fill the disk). Every browser the service opens denies downloads, for all its
// pages (Remotion opens them in the default context); one that cannot is closed, not used.
const denyDownloads = async (browser) => {
  try {
    await browser.connection.send('Browser.setDownloadBehavior', {behavior: 'deny'});
  } catch (err) {
    await browser.close({silent: true}).catch(() => undefined);
    throw err;
  }
  return browser;
};

// A browser that dies (killed, out of memory) is forgotten, so the next request opens a new
// one, and the request it served ends with kind 'browser-crashed'.
let browserCrashes = 0;
const watchBrowser = (browser, opening) => {
  browser.connection.transport.websocket.addEventListener('close', () => {
    if (closing || browserPromise !== opening) return;
    browserCrashes++;
    browserPromise = null;
    browser.close({silent: true}).catch(() => undefined); // ends what is left of its processes
  });
  return browser;
};

// Mid-render, Remotion replaces a dead browser by launching `browserExecutable`, or with none by
// downloading one (a DNS failure offline). Its launch is given `false`, which fails at once, so
// the render stops and reports the crash; the next request opens our own browser again. (A
// throwing onBrowserDownload alone is not enough: Remotion chains every later browser check
// on the rejected one, and no browser could be opened again. It stays as the last guard.)
const refuseDownload = () => {
  throw Object.assign(new Error('vidgen never downloads a browser'), {kind: 'browser-crashed'});
};
const noRelaunch = {
  browserExecutable: ['/usr/bin/false', '/bin/false'].find((file) => fs.existsSync(file)) ?? settings.browser ?? null,
  onBrowserDownload: refuseDownload,
};

const crashReport = () => ({
  kind: 'browser-crashed',
  message: 'the browser (Chromium) crashed during the render: its process ended (killed, or out of memory); render again',
});

// ---------------------------------------------------------------- bundle

// One webpack compiler for the life of the process: a rebuild after an edit only recompiles
// what changed. Errors are kept (emitOnErrors) and attributed to their files, so one broken
// video is reported while the others still bundle and render.
let compilerPromise = null;
/** @type {Promise<unknown>} the build under way, or the last one */
let building = Promise.resolve();

// webpack stores its cache in the background after a build and deletes the packs it replaced, while
// another compiler of the same workspace may still read them (the daemon's, and a command's own with
// --no-daemon, or a test's): each kind of service keeps a cache of its own, so none loses a pack it reads.
// (Remotion sets the cache after the override: it is renamed in the config it returns.)
const ownCache = (config) =>
  settings.cacheName && config.cache && typeof config.cache === 'object' ? {...config, cache: {...config.cache, name: `${config.cache.name}-${settings.cacheName}`}} : config;

const makeCompiler = async () => {
  const [, config] = await webpackConfig({
    // Every video, checked or not (src/index.ts, Studio's, leaves out those that failed); a
    // workspace made before every-video.ts existed has only index.ts.
    entryPoint: ['every-video.ts', 'index.ts'].map((file) => path.join(root, 'src', file)).find((file) => fs.existsSync(file)),
    outDir: path.join(bundleRoot, '0'),
    resolvedRemotionRoot: root,
    onProgress: () => undefined,
    options: {
      enableCaching: true,
      // The file jail sees every loader, the source-location stamp included.
      webpackOverride: (conf) =>
        jailed(sourceLocations.withSourceLocations({...conf, optimization: {...conf.optimization, emitOnErrors: true}}, {root}), {root}),
    },
  });
  const compiler = webpack(ownCache(config));
  trace('webpack compiler made');
  return compiler;
};

const writeIndexHtml = (bundleDir) => {
  const publicDir = path.join(root, 'public');
  const linkedPublic = path.join(bundleDir, 'public');
  if (fs.existsSync(publicDir) && !fs.existsSync(linkedPublic)) {
    fs.symlinkSync(publicDir, linkedPublic);
  }
  const staticHash = './public';
  const html = indexHtml({
    importMap: null,
    staticHash,
    publicPath: './',
    editorName: null,
    inputProps: null,
    remotionRoot: root,
    studioServerCommand: null,
    renderQueue: null,
    numberOfAudioTags: 0,
    publicFiles: fs.existsSync(publicDir)
      ? publicFiles({folder: '.', startPath: publicDir, staticHash, limit: 10000})
      : [],
    includeFavicon: false,
    title: 'vidgen bundle',
    renderDefaults: undefined,
    publicFolderExists: './public',
    fileSystemPlatform: null,
    gitSource: null,
    projectName: path.basename(root),
    installedDependencies: null,
    packageManager: 'unknown',
    logLevel: 'info',
    mode: 'bundle',
    audioLatencyHint: 'playback',
    experimentalKeepAudioContextAlive: false,
    sampleRate: 48000,
    studioRuntimeConfig: {
      askAIEnabled: false,
      bufferStateDelayInMilliseconds: null,
      defaultCodingAgent: null,
      defaultEditor: null,
      interactivityEnabled: false,
      keyboardShortcutsEnabled: false,
      maxTimelineTracks: null,
      publicLicenseKey: null,
      configFileStudioSettings: null,
    },
  });
  fs.writeFileSync(path.join(bundleDir, 'index.html'), html);
};

const lineAndColumn = (loc) => {
  const match = /^(\d+):(\d+)/.exec(loc || '');
  return match ? {line: Number(match[1]), column: Number(match[2]) + 1} : {line: null, column: null};
};

const compile = async () => {
  if (!compilerPromise) {
    compilerPromise = makeCompiler();
  }
  const compiler = await compilerPromise;
  // Rebuild in place (webpack then writes only what changed) unless a render is reading the
  // current build: then the new one goes to a new folder.
  const inUse = currentBundle !== null && (generations.get(currentBundle) ?? 0) > 0;
  const folder = currentBundle === null || inUse ? path.join(bundleRoot, String(++generation)) : currentBundle;
  compiler.outputPath = folder;
  const stats = await new Promise((resolve, reject) => {
    compiler.run((err, result) => (err ? reject(err) : resolve(result)));
  });
  fs.mkdirSync(folder, {recursive: true});
  writeIndexHtml(folder);
  compositions.clear(); // the code may have changed any video's config
  const previous = currentBundle;
  currentBundle = folder;
  generations.set(folder, generations.get(folder) ?? 0);
  if (previous && previous !== folder) {
    generations.set(previous, (generations.get(previous) ?? 0) + 1);
    releaseBundle(previous);
  }
  const diagnostics = stats.compilation.errors.map((error) => {
    const file = moduleFile(stats.compilation, error.module);
    return {
      file,
      ...lineAndColumn(error.loc ? `${error.loc.start ? `${error.loc.start.line}:${error.loc.start.column}` : error.loc}` : ''),
      ...(file && error.error?.jailRequest ? locateRequest(file, error.error.jailRequest) : {}),
      // A jail refusal is its own one-line message: nothing the resolver tried is quoted.
      message: String(error.error?.jailMessage || error.message || error),
    };
  });
  return {diagnostics};
};

// The file an error belongs to: its module's, or for a module without a file (the list of a
// require.context()) the nearest importer's, so the error is charged to the right video.
const moduleFile = (compilation, module) => {
  for (let seen = 0; module && seen < 50; seen++, module = compilation.moduleGraph.getIssuer(module)) {
    if (module.resource) return module.resource;
  }
  return null;
};

// Builds are serialised: webpack cannot run one compiler twice at once.
const bundle = () => {
  const run = building.then(compile, compile);
  building = run.catch(() => undefined);
  return run;
};

// ---------------------------------------------------------------- lint and typecheck

const {lint, typecheck, stop: stopChecker} = checkerClient({root, trace});

// ---------------------------------------------------------------- compositions and renders

const cancellers = new Map();
const cancelled = new Set();
const running = new Set();
const cancellable = (id) => {
  const {cancelSignal, cancel} = renderer.makeCancelSignal();
  cancellers.set(id, cancel);
  if (cancelled.has(id)) cancel();
  return cancelSignal;
};

// Metadata per video and build: asking the page costs a few hundred ms.
const compositions = new Map();
const selectComposition = async (bundleDir, name, timeoutMs) => {
  const key = `${bundleDir}\n${name}`;
  if (!compositions.has(key)) {
    for (const old of compositions.keys()) if (!old.startsWith(`${bundleDir}\n`)) compositions.delete(old);
    const pending = loadComposition(bundleDir, name, timeoutMs);
    compositions.set(key, pending);
    pending.catch(() => compositions.delete(key));
  }
  return compositions.get(key);
};

const loadComposition = async (bundleDir, name, timeoutMs) =>
  renderer.selectComposition({
    serveUrl: bundleDir,
    id: name,
    inputProps: {},
    puppeteerInstance: await getBrowser(),
    ...noRelaunch,
    timeoutInMilliseconds: timeoutMs,
    chromiumOptions,
    logLevel,
  });

const metadata = async ({name, timeoutMs}) =>
  withBundle(async (bundleDir) => {
    const {id, width, height, fps, durationInFrames} = await selectComposition(bundleDir, name, timeoutMs);
    return {id, width, height, fps, durationInFrames};
  });

// Remotion pads the frame number in the file name to the width of the longest one.
const stillPath = (outputDir, frame) => {
  const name = fs.readdirSync(outputDir).find((entry) => Number(/\d+/.exec(entry)?.[0]) === frame);
  return name ? path.join(outputDir, name) : null;
};

const stills = (args, progress, id) => withBundle((bundleDir) => stillsFrom(bundleDir, args, progress, id));
const stillsFrom = async (bundleDir, {name, frames, outputDir, timeoutMs}, progress, id) => {
  const composition = await selectComposition(bundleDir, name, timeoutMs);
  const cancelSignal = cancellable(id);
  fs.mkdirSync(outputDir, {recursive: true});
  const wanted = [...new Set(frames.filter((frame) => frame >= 0 && frame < composition.durationInFrames))];
  const written = [];
  // One page, one frame at a time in the order asked: the first still exists as soon as
  // it is reported, and a frame that fails or hangs is the one after the last reported.
  await renderer.renderFrames({
    composition,
    serveUrl: bundleDir,
    outputDir,
    frames: wanted,
    imageFormat: 'jpeg',
    jpegQuality: 80,
    imageSequencePattern: 'frame-[frame].[ext]',
    inputProps: {},
    puppeteerInstance: await getBrowser(),
    ...noRelaunch,
    concurrency: 1,
    timeoutInMilliseconds: timeoutMs,
    chromiumOptions,
    cancelSignal,
    logLevel,
    onStart: () => progress({stage: 'still', frame: wanted[0], started: true}),
    onFrameUpdate: (count, frame) => {
      const file = stillPath(outputDir, frame);
      written.push({frame, path: file});
      progress({stage: 'still', frame, path: file, next: wanted[count] ?? null});
    },
  });
  return {stills: written};
};

const still = (args) => withBundle((bundleDir) => stillFrom(bundleDir, args));
const stillFrom = async (bundleDir, {name, frame, output, timeoutMs}) => {
  const composition = await selectComposition(bundleDir, name, timeoutMs);
  if (frame < 0 || frame >= composition.durationInFrames) {
    throw Object.assign(new Error(`frame ${frame} is outside the video (0 to ${composition.durationInFrames - 1})`), {kind: 'usage'});
  }
  await renderer.renderStill({
    composition,
    serveUrl: bundleDir,
    output,
    frame,
    imageFormat: 'png',
    inputProps: {},
    puppeteerInstance: await getBrowser(),
    ...noRelaunch,
    timeoutInMilliseconds: timeoutMs,
    chromiumOptions,
    overwrite: true,
    logLevel,
  });
  return {output, width: composition.width, height: composition.height};
};

// The render's optional arguments, as Remotion's CLI means them (--props, --scale, --frames, --crf).
// vidgen checks them first; these checks keep a hostile or mistaken request from reaching Remotion,
// whose own errors would read as the video's fault. null or absent: Remotion's default.
const usage = (message) => Object.assign(new Error(message), {kind: 'usage'});
const MAX_PROPS_BYTES = 65536;
const CRF_RANGES = {h264: [1, 51], vp9: [0, 63]}; // Remotion's getValidCrfRanges for the codecs vidgen renders
const isInt = (value) => Number.isInteger(value) && value >= 0;
const renderOptions = ({inputProps, scale, frameRange, crf, codec}, frames) => {
  if (inputProps != null) {
    if (typeof inputProps !== 'object' || Array.isArray(inputProps) || Object.getPrototypeOf(inputProps) !== Object.prototype) {
      throw usage('inputProps must be a JSON object');
    }
    if (Buffer.byteLength(JSON.stringify(inputProps)) > MAX_PROPS_BYTES) throw usage(`inputProps is over ${MAX_PROPS_BYTES} bytes`);
  }
  if (scale != null && !(typeof scale === 'number' && Number.isFinite(scale) && scale > 0 && scale <= 16)) {
    throw usage('scale must be a number above 0 and at most 16');
  }
  if (frameRange != null) {
    const [first, lastFrame] = Array.isArray(frameRange) ? frameRange : [frameRange, frameRange];
    const pair = !Array.isArray(frameRange) || frameRange.length === 2;
    if (!pair || !isInt(first) || !isInt(lastFrame) || first > lastFrame || lastFrame >= frames) {
      throw usage(`frameRange must be a frame or [first, last] within 0 to ${frames - 1}`);
    }
  }
  if (crf != null) {
    const range = CRF_RANGES[codec];
    if (!range) throw usage(`crf applies to ${Object.keys(CRF_RANGES).join(' and ')}, not ${codec}`);
    if (!Number.isInteger(crf) || crf < range[0] || crf > range[1]) throw usage(`crf for ${codec} must be ${range[0]} to ${range[1]}`);
  }
  const count = frameRange == null ? frames : Array.isArray(frameRange) ? frameRange[1] - frameRange[0] + 1 : 1;
  return {inputProps: inputProps ?? {}, scale: scale ?? 1, frameRange: frameRange ?? null, crf: crf ?? null, count};
};

const renderVideo = (args, progress, id) => withBundle((bundleDir) => renderFrom(bundleDir, args, progress, id));
const renderFrom = async (bundleDir, {name, output, codec, concurrency, timeoutMs, ...optional}, progress, id) => {
  const selected = await selectComposition(bundleDir, name, timeoutMs);
  const {inputProps, scale, frameRange, crf, count} = renderOptions(
    {inputProps: optional.inputProps, scale: optional.scale, frameRange: optional.frameRange, crf: optional.crf, codec},
    selected.durationInFrames,
  );
  // The component reads the composition's props (defaults merged with input props, as selectComposition
  // would resolve them): merged here, the cached metadata serves, since a video's config ignores props.
  const composition = {...selected, props: {...selected.props, ...inputProps}};
  const cancelSignal = cancellable(id);
  let last = 0;
  await renderer.renderMedia({
    composition,
    serveUrl: bundleDir,
    codec,
    outputLocation: output,
    inputProps,
    scale,
    frameRange,
    crf,
    puppeteerInstance: await getBrowser(),
    ...noRelaunch,
    concurrency: concurrency ?? null,
    timeoutInMilliseconds: timeoutMs,
    chromiumOptions,
    cancelSignal,
    overwrite: true,
    imageFormat: codec === 'prores' ? 'png' : 'jpeg',
    logLevel,
    onProgress: ({renderedFrames, encodedFrames, progress: fraction, stitchStage}) => {
      const now = Date.now();
      if (now - last < 100 && fraction < 1) return;
      last = now;
      progress({stage: 'render', renderedFrames, encodedFrames, frames: count, progress: fraction, stitchStage});
    },
  });
  return {output};
};

// ---------------------------------------------------------------- layout QA

// Layout QA opens the composition in its own page of the warm browser the way renderStill
// does (Remotion's own helpers, reached by path like the symbolicator below: they are not in
// the renderer's exports), then seeks it frame by frame and inspects it with layout-qa.js,
// driven by layout-frames.mjs.
const layoutScript = fs.readFileSync(new URL('./layout-qa.js', import.meta.url), 'utf8');

// A page showing `composition`, ready at `frame`, with the QA script installed.
const openLayoutPage = async (server, composition, frame, timeoutMs, onBrowserLog) => {
  const page = await openCompositionPage(server, composition, frame, timeoutMs, onBrowserLog);
  await seekToFrame({frame, page, composition: composition.id, timeoutInMilliseconds: timeoutMs, logLevel, indent: false, attempt: 0});
  await page.evaluateHandle(layoutScript);
  return page;
};

// A page mounting `composition` from `frame`, without waiting for it to be ready (delayRender).
const openCompositionPage = async (server, composition, frame, timeoutMs, onBrowserLog = null) => {
  const page = await (await getBrowser()).newPage({
    context: server.sourceMap,
    logLevel,
    indent: false,
    pageIndex: 0,
    onBrowserLog,
    onLog: () => undefined,
  });
  await page.setViewport({width: composition.width, height: composition.height, deviceScaleFactor: 1});
  await setPropsAndEnv({
    serializedInputPropsWithCustomSchema: serializeProps({}),
    envVariables: {},
    page,
    serveUrl: server.serveUrl,
    initialFrame: frame,
    timeoutInMilliseconds: timeoutMs,
    proxyPort: server.offthreadPort,
    retriesRemaining: 2,
    audioEnabled: false,
    videoEnabled: true,
    indent: false,
    logLevel,
    onServeUrlVisited: () => undefined,
    isMainTab: true,
    mediaCacheSizeInBytes: null,
    initialMemoryAvailable: null,
    darkMode: false,
    sampleRate: 48000,
  });
  await puppeteerEvaluateWithCatch({
    pageFunction: (id, props, durationInFrames, fps, height, width) => {
      window.remotion_setBundleMode({
        type: 'composition',
        compositionName: id,
        serializedResolvedPropsWithSchema: props,
        compositionDurationInFrames: durationInFrames,
        compositionFps: fps,
        compositionHeight: height,
        compositionWidth: width,
        // @ts-expect-error Remotion types it as a Codec, yet its page takes null: its own renderer passes the composition's defaultCodec, which may be null
        compositionDefaultCodec: null,
        compositionDefaultOutName: null,
        compositionDefaultVideoImageFormat: null,
        compositionDefaultPixelFormat: null,
        compositionDefaultProResProfile: null,
        compositionDefaultSampleRate: null,
      });
    },
    args: [composition.id, serializeProps(composition.props ?? {}), composition.durationInFrames, composition.fps, composition.height, composition.width],
    frame: null,
    page,
    timeoutInMilliseconds: timeoutMs,
  });
  return page;
};

// One file server for the build being checked, kept from check to check: the page's URL stays
// the same, so the browser's caches serve the unchanged chunks, and no server starts per check.
let layoutServing = null; // {bundleDir, server: Promise}
const layoutServer = (bundleDir) => {
  if (layoutServing?.bundleDir !== bundleDir || !fs.existsSync(bundleDir)) {
    const previous = layoutServing;
    if (previous) previous.server.then(({cleanupServer}) => cleanupServer(true)).catch(() => undefined);
    const server = makeOrReuseServer(
      undefined,
      {
        webpackConfigOrServeUrl: bundleDir,
        port: null,
        remotionRoot: root,
        offthreadVideoThreads: 1,
        logLevel,
        indent: false,
        offthreadVideoCacheSizeInBytes: null,
        binariesDirectory: null,
        forceIPv4: false,
        sampleRate: 48000,
      },
      {onDownload: null},
    );
    layoutServing = {bundleDir, server};
    server.catch(() => {
      if (layoutServing?.server === server) layoutServing = null;
    });
  }
  return layoutServing.server.then(({server}) => server);
};

const layoutQa = (args, progress, id) => withBundle((bundleDir) => layoutFrom(bundleDir, args, progress, id));
const layoutFrom = async (bundleDir, {name, frames, options, timeoutMs}, progress, id) => {
  const composition = await selectComposition(bundleDir, name, timeoutMs);
  const wanted = [...new Set(frames.filter((frame) => frame >= 0 && frame < composition.durationInFrames))];
  if (!wanted.length) return {problems: [], frames: []};
  const cancelSignal = cancellable(id);
  const server = await layoutServer(bundleDir);
  let page = null;
  let thrown = null; // an exception the video threw while a frame was shown
  let stopWatching = () => Promise.resolve();
  let current = wanted[0];
  const call = (pageFunction, args) =>
    puppeteerEvaluateWithCatchAndTimeout({pageFunction, args, frame: current, page, timeoutInMilliseconds: timeoutMs + 5000}).then(({value}) => {
      if (thrown) throw thrown;
      return value;
    });
  const failed = new Map(); // url -> {reason, frame}: what the video asked for and never got
  const onBrowserLog = (log) => {
    const load = failedLoad(log, server.serveUrl);
    if (load && !failed.has(load.url)) failed.set(load.url, {...load, frame: current});
  };
  try {
    page = await openLayoutPage(server, composition, current, timeoutMs, onBrowserLog);
    cancelSignal(() => page.close().catch(() => undefined));
    stopWatching = handleJavascriptException({page, frame: null, onError: (err) => (thrown ??= err)});
    await call((given) => window.__vidgenLayoutQa.configure(given), [{...options, composition: composition.id, width: composition.width, height: composition.height, timeoutMs}]);
    await inspectFrames({page, frames: wanted, call, at: (frame) => (current = frame), stopped: () => cancelled.has(id), progress});
    const problems = await call(() => window.__vidgenLayoutQa.report(), []);
    return {problems: [...[...failed.values()].map(failedLoadProblem), ...problems], frames: wanted};
  } catch (err) {
    if (err && typeof err === 'object' && typeof err.frame !== 'number') err.frame = current;
    if (evaluationTimedOut(err)) {
      Object.assign(err, {kind: 'timeout', message: `Timeout exceeded: frame ${current} did not finish within ${timeoutMs}ms during layout QA`});
    }
    throw err;
  } finally {
    await stopWatching();
    if (page) await page.close().catch(() => undefined);
  }
};

// ---------------------------------------------------------------- timeline

// Every Sequence the video mounts, with its frames (timeline.js), for the composition check: a
// scene that ends after the composition's last frame is cut off. Exceptions the video throws are
// left to the stills (the walk returns what it found); a frame that hangs is this request's error.
const timelineScript = fs.readFileSync(new URL('./timeline.js', import.meta.url), 'utf8');

const timeline = (args, progress, id) => withBundle((bundleDir) => timelineFrom(bundleDir, args, id));
const timelineFrom = async (bundleDir, {name, timeoutMs}, id) => {
  // The page is opened once the metadata is known, not while it is computed: a page loaded before
  // its composition is set timed out in Remotion's "Waiting for root component to load".
  const composition = await selectComposition(bundleDir, name, timeoutMs);
  const cancelSignal = cancellable(id);
  const server = await layoutServer(bundleDir);
  let page = null;
  try {
    page = await openCompositionPage(server, composition, 0, timeoutMs);
    cancelSignal(() => page.close().catch(() => undefined));
    await page.evaluateHandle(timelineScript);
    const {value} = await puppeteerEvaluateWithCatchAndTimeout({
      pageFunction: (given) => window.__vidgenTimeline.collect(given),
      args: [{composition: composition.id, durationInFrames: composition.durationInFrames, timeoutMs}],
      frame: null,
      page,
      timeoutInMilliseconds: timeoutMs * 2 + 5000,
    });
    const {id: composed, width, height, fps, durationInFrames} = composition;
    return {...value, composition: {id: composed, width, height, fps, durationInFrames}};
  } catch (err) {
    if (evaluationTimedOut(err)) {
      Object.assign(err, {kind: 'timeout', message: `Timeout exceeded: the video did not finish rendering within ${timeoutMs}ms while its timeline was read`});
    }
    throw err;
  } finally {
    if (page) await page.close().catch(() => undefined);
  }
};

// ---------------------------------------------------------------- errors and dispatch

const operations = {
  browser: async () => {
    await getBrowser();
    return {open: true};
  },
  bundle,
  lint,
  typecheck,
  metadata,
  stills,
  still,
  render: renderVideo,
  layout: layoutQa,
  timeline,
  cancel: async ({target}) => {
    // A cancel may arrive before the request has a canceller (it is still selecting the
    // composition): it is remembered, and the request cancels itself as soon as it can.
    if (!running.has(target)) return {cancelled: false};
    cancelled.add(target);
    cancellers.get(target)?.();
    return {cancelled: true};
  },
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
  running.add(id);
  trace(`${op} ${id} asked`);
  const crashes = browserCrashes;
  try {
    const result = await operation(args, (event) => send({id, event: 'progress', ...event}), id);
    send({id, result});
    trace(`${op} ${id} done`);
  } catch (err) {
    const crashed = browserCrashes !== crashes || err?.kind === 'browser-crashed';
    send({id, error: await describeError(err, {cancelled: cancelled.has(id), crash: crashed ? crashReport() : null, bundleDir: currentBundle || bundleRoot})});
  } finally {
    running.delete(id);
    cancellers.delete(id);
    cancelled.delete(id);
  }
};

let closing = false;
const shutdown = async (code) => {
  if (closing) return;
  closing = true;
  try {
    stopChecker();
    if (browserPromise) {
      const browser = await browserPromise.catch(() => null);
      if (browser) await browser.close({silent: true}).catch(() => undefined);
    }
    // Webpack writes its filesystem cache when idle for a minute, or on close: closing here keeps
    // what this process built for the next one (a command often ends sooner). Its files are written
    // under temporary names and renamed, so a kill mid-write leaves the old cache whole.
    const compiler = await compilerPromise?.catch(() => null);
    if (compiler && !compiler.running) await new Promise((resolve) => compiler.close(resolve));
    trace('cache stored');
  } finally {
    fs.rmSync(bundleRoot, {recursive: true, force: true});
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

fs.rmSync(bundleRoot, {recursive: true, force: true});
// Start the slow parts at once; the first request then finds them under way.
getBrowser().catch(() => undefined);
trace('ready');
send({event: 'ready', pid: process.pid, node: process.version, protocol: PROTOCOL_VERSION, remotion: installedRemotion()});
