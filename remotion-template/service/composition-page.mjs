// Pages of the warm browser showing one composition, opened the way renderStill opens its own
// (Remotion's page setup, reached through remotion-adapter.mjs: it is not in the renderer's exports),
// for the checks that read the page themselves: layout QA and the timeline (page-checks.mjs).
import fs from 'node:fs';
import {makeOrReuseServer, puppeteerEvaluateWithCatch, serializeProps, setPropsAndEnv} from './remotion-adapter.mjs';

// `browser`: the warm browser (browser.mjs).
export const compositionPages = ({root, browser, logLevel}) => {
  // A page mounting `composition` from `frame`, without waiting for it to be ready (delayRender).
  const open = async (server, composition, frame, timeoutMs, onBrowserLog = null) => {
    const page = await (await browser.get()).newPage({
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

  return {open, server};
};
