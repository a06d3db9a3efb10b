// The bundle: one webpack compiler for the life of the process, so a rebuild after an edit only
// recompiles what changed. Errors are kept (emitOnErrors) and attributed to their files, so one
// broken video is reported while the others still bundle and render.
//
// Each build goes to a new folder, .vidgen/bundle/<id>/<generation>/: a render that started on
// one build keeps reading it while the next build is written (batch runs both at once), and two
// services on one workspace never share one. The id comes from Python (its pid and a token):
// inside the jail's own pid namespace every service has the same small pid and cannot see which
// others are alive, so Python removes the folders of services whose vidgen is gone. A generation
// is deleted once it is neither the newest nor in use.
import fs from 'node:fs';
import path from 'node:path';
import {jailed, locateRequest} from './jail.mjs';
import sourceLocations from './source-locations.cjs';
import {indexHtml, publicFiles, webpackConfig} from './remotion-adapter.mjs';

// `webpack`: the bundler's.
export const builds = ({root, settings, webpack, trace}) => {
  const bundleRoot = path.join(root, '.vidgen', 'bundle', String(settings.bundleId ?? process.pid));
  const generations = new Map(); // folder -> requests using it
  const hashes = new Map(); // folder -> webpack's hash of its build (of every module it bundled)
  let generation = 0;
  let currentBundle = null;
  let compilerPromise = null;
  /** @type {Promise<unknown>} the build under way, or the last one */
  let building = Promise.resolve();

  const releaseBundle = (folder) => {
    const users = (generations.get(folder) ?? 1) - 1;
    generations.set(folder, users);
    if (users <= 0 && folder !== currentBundle) {
      generations.delete(folder);
      hashes.delete(folder);
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

  // webpack stores its cache in the background after a build and deletes the packs it replaced, while
  // another compiler of the same workspace may still read them (the daemon's, and a command's own with
  // --no-daemon, or a test's): each kind of service keeps a cache of its own, so none loses a pack it reads.
  // (Remotion sets the cache after the override: it is renamed in the config it returns.)
  // `memory`: none on disk, for a long-lived service that never restarts cold (the test suite's shared one,
  // whose workspace is new each run: a disk cache would only be written, and its background store was the
  // one thing left that could delete a pack under this service's own next build).
  const ownCache = (config) => {
    if (settings.cacheName === 'memory') return {...config, cache: {type: 'memory'}};
    return settings.cacheName && config.cache && typeof config.cache === 'object' ? {...config, cache: {...config.cache, name: `${config.cache.name}-${settings.cacheName}`}} : config;
  };

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
    writeIndexHtml(root, folder);
    hashes.set(folder, stats.hash);
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

  // Builds are serialised: webpack cannot run one compiler twice at once.
  const bundle = () => {
    const run = building.then(compile, compile);
    building = run.catch(() => undefined);
    return run;
  };

  // Webpack writes its filesystem cache when idle for a minute, or on close: closing keeps what this
  // process built for the next one (a command often ends sooner). Its files are written under
  // temporary names and renamed, so a kill mid-write leaves the old cache whole.
  const storeCache = async () => {
    const compiler = await compilerPromise?.catch(() => null);
    if (compiler && !compiler.running) await new Promise((resolve) => compiler.close(resolve));
  };

  return {
    bundle,
    withBundle,
    storeCache,
    // What a build's folder holds: the same for two builds of the same code, so what was learnt from
    // the page of one (a video's config, which only its code decides) serves the other.
    contentOf: (folder) => hashes.get(folder) ?? folder,
    // The newest build's folder (null before the first), and the folder of them all.
    current: () => currentBundle,
    folder: bundleRoot,
  };
};

const lineAndColumn = (loc) => {
  const match = /^(\d+):(\d+)/.exec(loc || '');
  return match ? {line: Number(match[1]), column: Number(match[2]) + 1} : {line: null, column: null};
};

// The file an error belongs to: its module's, or for a module without a file (the list of a
// require.context()) the nearest importer's, so the error is charged to the right video.
const moduleFile = (compilation, module) => {
  for (let seen = 0; module && seen < 50; seen++, module = compilation.moduleGraph.getIssuer(module)) {
    if (module.resource) return module.resource;
  }
  return null;
};

// The build's index.html as Remotion's bundle() writes it, with public/ linked beside it.
const writeIndexHtml = (root, bundleDir) => {
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
