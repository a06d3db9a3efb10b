// Pages of the warm browser showing one composition, opened the way renderStill opens its own
// (Remotion's page setup, reached through remotion-adapter.mjs: it is not in the renderer's exports),
// for the checks that read the page themselves: layout QA and the timeline (page-checks.mjs).
import fs from 'node:fs';
import {
  deserializeProps,
  handleJavascriptException,
  makeOrReuseServer,
  puppeteerEvaluateWithCatch,
  serializeProps,
  setPropsAndEnv,
  waitForReady,
} from './remotion-adapter.mjs';

// `watched(promise)`: the promise, or rejected at once with the first exception the video throws on `page`
// (at `frame`, for the error's words) from now on; `stopWatching()` ends the watch.
export const failOnThrow = (page, frame) => {
  /** @type {(err: unknown) => void} */
  let fail = () => undefined;
  const thrown = new Promise((_resolve, reject) => (fail = reject));
  thrown.catch(() => undefined);
  const stopWatching = handleJavascriptException({page, frame, onError: (err) => fail(err)});
  return {watched: (promise) => Promise.race([promise, thrown]), stopWatching};
};

// `browser`: the warm browser (browser.mjs).
export const compositionPages = ({root, browser, logLevel}) => {
  // A new page of the warm browser with the build's page loaded, as the renderer sets one up. `onPage` sees
  // the page as soon as it exists (a request's cancel closes it then, not once the video is ready).
  /** @type {(server: any, frame: number, timeoutMs: number, onBrowserLog: any, onPage?: (page: any) => void) => Promise<any>} */
  const load = async (server, frame, timeoutMs, onBrowserLog, onPage = () => undefined) => {
    const page = await (await browser.get()).newPage({
      context: server.sourceMap,
      logLevel,
      indent: false,
      pageIndex: 0,
      onBrowserLog,
      onLog: () => undefined,
    });
    onPage(page);
    try {
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
    } catch (err) {
      await page.close().catch(() => undefined);
      throw err;
    }
    return page;
  };

  // Show `composition` on a loaded page, without waiting for it to be ready (delayRender).
  const mount = async (page, composition, timeoutMs) => {
    await page.setViewport({width: composition.width, height: composition.height, deviceScaleFactor: 1});
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
  };

  // A page mounting `composition` from `frame`, without waiting for it to be ready (delayRender).
  const open = async (server, composition, frame, timeoutMs, onBrowserLog = null, onPage = undefined) => {
    const page = await load(server, frame, timeoutMs, onBrowserLog, onPage);
    try {
      await mount(page, composition, timeoutMs);
    } catch (err) {
      await page.close().catch(() => undefined);
      throw err;
    }
    return page;
  };

  // One page for a video's config and then the video itself: the config computed as selectComposition
  // computes it (the page in evaluation mode), then the same page mounts it, where asking for the config
  // first and opening a page after it costs a second page load (about 0.7 s of CPU). {page, composition};
  // the page is closed on an error, which is the page's own.
  const openEvaluated = async (server, name, timeoutMs, onBrowserLog = null, onPage = undefined) => {
    const page = await load(server, 0, timeoutMs, onBrowserLog, onPage);
    // An exception the video throws fails the request at once, as in selectComposition.
    const {watched, stopWatching} = failOnThrow(page, null);
    const evaluate = (pageFunction, args) => watched(puppeteerEvaluateWithCatch({pageFunction, frame: null, args, page, timeoutInMilliseconds: timeoutMs}));
    try {
      await evaluate(() => window.remotion_setBundleMode({type: 'evaluation'}), []);
      await watched(waitForReady({page, timeoutInMilliseconds: timeoutMs, frame: null, logLevel, indent: false}));
      const {value} = await evaluate((id) => window.remotion_calculateComposition(id), [name]);
      const {width, height, fps, durationInFrames, defaultCodec, defaultOutName, defaultVideoImageFormat, defaultPixelFormat, defaultProResProfile, defaultSampleRate} = value;
      const composition = {
        id: name,
        width,
        height,
        fps,
        durationInFrames,
        props: deserializeProps(value.serializedResolvedPropsWithCustomSchema),
        defaultProps: deserializeProps(value.serializedDefaultPropsWithCustomSchema),
        defaultCodec,
        defaultOutName,
        defaultVideoImageFormat,
        defaultPixelFormat,
        defaultProResProfile,
        defaultSampleRate,
      };
      await mount(page, composition, timeoutMs);
      return {page, composition};
    } catch (err) {
      await page.close().catch(() => undefined);
      throw err;
    } finally {
      await stopWatching();
    }
  };

  // One file server for the build being checked, kept from check to check: the page's URL stays
  // the same, so the browser's caches serve the unchanged chunks, and no server starts per check.
  let serving = null; // {bundleDir, server: Promise}
  const server = (bundleDir) => {
    if (serving?.bundleDir !== bundleDir || !fs.existsSync(bundleDir)) {
      const previous = serving;
      if (previous) previous.server.then(({cleanupServer}) => cleanupServer(true)).catch(() => undefined);
      const starting = makeOrReuseServer(
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
      serving = {bundleDir, server: starting};
      starting.catch(() => {
        if (serving?.server === starting) serving = null;
      });
    }
    return serving.server.then(({server}) => server);
  };

  return {open, openEvaluated, server};
};
