// The two checks that read a composition's page themselves, on the newest build: layout QA
// (layout-qa.js and its parts in the page, driven frame by frame by layout-frames.mjs) and the
// timeline (timeline.js), and the stills a watch's render draws first, from the timeline's page. Their
// pages come from composition-page.mjs, their scripts from page-script.mjs.
import fs from 'node:fs';
import path from 'node:path';
import {failOnThrow} from './composition-page.mjs';
import {inspectFrames} from './layout-frames.mjs';
import {failedLoad, failedLoadProblem} from './failed-load.mjs';
import {
  evaluationTimedOut,
  handleJavascriptException,
  puppeteerEvaluateWithCatch,
  puppeteerEvaluateWithCatchAndTimeout,
  seekToFrame,
  takeFrame,
  timeoutOf,
} from './remotion-adapter.mjs';
import {LAYOUT_QA_FILES, pageScript} from './page-script.mjs';

const layoutScript = pageScript(LAYOUT_QA_FILES);
// Every Sequence the video mounts, with its frames, for the composition check: a scene that ends
// after the composition's last frame is cut off. Exceptions the video throws are left to the stills
// (the walk returns what it found); a frame that hangs is this request's error.
const timelineScript = pageScript(['timeline.js']);

// How long a timeline's page is kept for the stills and layout requests that follow it (`keepPage`); a ladder
// that stopped at the composition stage never asks for it.
const KEPT_FOR_MS = 10_000;
// The failed loads a page's first showing may hold for the layout request (distinct URLs).
const HELD_LOADS = 50;
// The longest a still may take on a kept page before it is drawn again on a page of its own: frame 0 of a
// ready page shows within a few hundred ms; a video that takes longer there is left to renderFrames.
const KEPT_STILL_MS = 5_000;

// `pages`: composition-page.mjs's; `compositions` and `withBundle`: the cached metadata (renders.mjs's
// selectComposition, knownComposition and rememberComposition) and the newest build (builds.mjs);
// `contentOf`: builds.mjs's; `requests`: cancellation.mjs's.
export const pageChecks = ({pages, compositions, withBundle, contentOf, requests, logLevel}) => {
  const {selectComposition, knownComposition, rememberComposition} = compositions;

  // The page a `timeline` request with `keepPage` left open, for the `stills` (one frame: a watch's first
  // look) and `layout` requests of the same build folder, content and video right after it: a page load less
  // each. Any other request closes it (dropKept, from render-service.mjs), so a video's code left running
  // there never competes with another's page. {key, page, logs (heldLoads'), timer}.
  let kept = null;
  const dropKept = () => {
    if (!kept) return;
    clearTimeout(kept.timer);
    kept.page.close().catch(() => undefined);
    kept = null;
  };
  const keep = (key, page, logs) => {
    dropKept();
    kept = {key, page, logs, timer: setTimeout(dropKept, KEPT_FOR_MS)};
    kept.timer.unref?.();
  };
  // The kept page for `key`, its browser logs now going to `onBrowserLog`, or null (any other kept page
  // is closed).
  const takeKept = (key, onBrowserLog) => {
    if (kept?.key !== key) {
      dropKept();
      return null;
    }
    const taken = kept;
    clearTimeout(taken.timer);
    kept = null;
    taken.logs.readBy(onBrowserLog);
    return taken;
  };
  // A timeline page's browser logs: the loads that failed while it first showed the video (frame 0), each
  // URL once, at most HELD_LOADS, for the layout request that may read the page; whether any failed during
  // its walk over the frames (a page the layout request could not tell the frame of: never kept); then,
  // once a layout request reads the page, all go to it.
  const heldLoads = (serveUrl) => {
    const loads = new Map();
    let walking = false;
    let failedWalking = false;
    let reader = null;
    return {
      loads,
      walk: () => (walking = true),
      failedWalking: () => failedWalking,
      readBy: (onBrowserLog) => (reader = onBrowserLog),
      onBrowserLog: (log) => {
        if (reader) return reader(log);
        const load = failedLoad(log, serveUrl);
        if (load && walking) failedWalking = true;
        else if (load && loads.size < HELD_LOADS && !loads.has(load.url)) loads.set(load.url, load);
      },
    };
  };
  const evaluate = (page, pageFunction, args, timeoutMs) =>
    puppeteerEvaluateWithCatch({pageFunction, args, frame: null, page, timeoutInMilliseconds: timeoutMs}).then(({value}) => value);
  // What a kept page is kept under: the build's folder and content, and the video.
  const keptKey = (bundleDir, name) => `${bundleDir}\n${contentOf(bundleDir)}\n${name}`;
  // A page showing `composition` (a new one, or `page`), ready at `frame`, with the QA script installed.
  const layoutPage = async (server, composition, frame, timeoutMs, onBrowserLog, reused = null) => {
    const page = reused ?? (await pages.open(server, composition, frame, timeoutMs, onBrowserLog));
    await seekToFrame({frame, page, composition: composition.id, timeoutInMilliseconds: timeoutMs, logLevel, indent: false, attempt: 0});
    await page.evaluateHandle(layoutScript);
    return page;
  };

  // A watch's first still (a `stills` request for one frame, right after its timeline) from the page the
  // timeline kept: the look at a save comes one page load sooner, and the page is kept again for the layout
  // request after it. {stills, page: 'kept'}, or null: no page is kept for this video, or the still failed
  // there in any way, or took over KEPT_STILL_MS (seeking waits first for the frame the walk left the page
  // on, whose handles may be another frame's). The caller then draws it on a page of its own (renderFrames),
  // so a video that throws or hangs at that frame fails as it always did, worded the same, at most
  // KEPT_STILL_MS (and Remotion's 3 s margin) later.
  const keptStills = (args, progress, id) => withBundle((bundleDir) => keptStillsFrom(bundleDir, args, progress, id));
  const keptStillsFrom = async (bundleDir, {name, frames, outputDir, timeoutMs}, progress, id) => {
    const key = keptKey(bundleDir, name);
    const composition = kept?.key === key ? await knownComposition(bundleDir, name)?.catch(() => null) : null;
    const frame = frames[0];
    if (!composition || kept?.key !== key || frames.length !== 1 || !(frame >= 0 && frame < composition.durationInFrames)) {
      dropKept();
      return null;
    }
    const {page, logs} = kept;
    clearTimeout(kept.timer);
    kept = null;
    requests.signal(id)(() => page.close().catch(() => undefined));
    const {watched, stopWatching} = failOnThrow(page, frame);
    const bound = Math.min(timeoutMs, KEPT_STILL_MS);
    const output = path.join(outputDir, `frame-${frame}.jpeg`);
    let drawn = false;
    try {
      fs.mkdirSync(outputDir, {recursive: true});
      const background = await watched(evaluate(page, () => window.document.body.style.background, [], bound));
      await watched(seekToFrame({frame, page, composition: composition.id, timeoutInMilliseconds: bound, logLevel, indent: false, attempt: 1}));
      const {width, height} = composition;
      await watched(takeFrame({freePage: page, imageFormat: 'jpeg', jpegQuality: 80, width, height, output, scale: 1, wantsBuffer: false, timeoutInMilliseconds: bound}));
      // As layout QA finds a page of its own: the background the screenshot set (renderFrames's) undone.
      await watched(evaluate(page, (value) => (window.document.body.style.background = value), [background], bound));
      drawn = !requests.isCancelled(id);
    } catch {
      if (requests.isCancelled(id)) throw Object.assign(new Error('stills was cancelled'), {frame});
    } finally {
      await stopWatching();
      if (drawn && !logs.failedWalking()) keep(key, page, logs);
      else await page.close().catch(() => undefined);
      if (!drawn) fs.rmSync(output, {force: true});
    }
    if (!drawn) return null;
    progress({stage: 'still', frame, started: true});
    progress({stage: 'still', frame, path: output, next: null});
    return {stills: [{frame, path: output}], page: 'kept'};
  };

  const layout = (args, progress, id) => withBundle((bundleDir) => layoutFrom(bundleDir, args, progress, id));
  const layoutFrom = async (bundleDir, {name, frames, options, timeoutMs}, progress, id) => {
    const composition = await selectComposition(bundleDir, name, timeoutMs);
    const wanted = [...new Set(frames.filter((frame) => frame >= 0 && frame < composition.durationInFrames))];
    if (!wanted.length) return {problems: [], frames: []};
    const cancelSignal = requests.signal(id);
    const server = await pages.server(bundleDir);
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
    const noteFailed = (load) => {
      if (load && !failed.has(load.url)) failed.set(load.url, {...load, frame: current});
    };
    const onBrowserLog = (log) => noteFailed(failedLoad(log, server.serveUrl));
    const reused = takeKept(keptKey(bundleDir, name), onBrowserLog);
    try {
      for (const load of reused?.logs.loads.values() ?? []) noteFailed(load);
      page = reused?.page ?? null; // closed in `finally` if the seek fails
      page = await layoutPage(server, composition, current, timeoutMs, onBrowserLog, page);
      cancelSignal(() => page.close().catch(() => undefined));
      stopWatching = handleJavascriptException({page, frame: null, onError: (err) => (thrown ??= err)});
      await call((given) => window.__vidgenLayoutQa.configure(given), [{...options, composition: composition.id, width: composition.width, height: composition.height, timeoutMs}]);
      await inspectFrames({page, frames: wanted, call, at: (frame) => (current = frame), stopped: () => requests.isCancelled(id), progress});
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

  const timeline = (args, progress, id) => withBundle((bundleDir) => timelineFrom(bundleDir, args, id));
  const timelineFrom = async (bundleDir, {name, timeoutMs, keepPage}, id) => {
    const cancelSignal = requests.signal(id);
    const server = await pages.server(bundleDir);
    const logs = heldLoads(server.serveUrl);
    let page = null;
    let composition = await knownComposition(bundleDir, name)?.catch(() => null);
    // The video threw on the page: the walk ends at once with what it found (the video never mounted may be
    // all: it would otherwise wait out its timeout), and the page is not kept (a still or layout QA there
    // would not see the throw). Watched from the page's start, so a throw as it mounts is seen too.
    let threw = false;
    /** @type {() => void} */
    let onThrow = () => undefined;
    const throws = new Promise((resolve) => (onThrow = () => resolve(undefined)));
    let stopWatching = () => Promise.resolve();
    // Cancelled (a ladder that stopped before its composition stage), a page closes even while it loads.
    const onPage = (opened) => {
      cancelSignal(() => opened.close().catch(() => undefined));
      stopWatching().catch(() => undefined);
      stopWatching = handleJavascriptException({page: opened, frame: null, onError: () => ((threw = true), onThrow())});
    };
    try {
      if (composition) {
        page = await pages.open(server, composition, 0, timeoutMs, logs.onBrowserLog, onPage);
      } else {
        // The config and the timeline from one page (the timeline is the first to ask, in a check).
        try {
          ({page, composition} = await pages.openEvaluated(server, name, timeoutMs, logs.onBrowserLog, onPage));
          rememberComposition(bundleDir, name, composition);
        } catch (err) {
          if (timeoutOf(err) || evaluationTimedOut(err) || requests.isCancelled(id)) throw err;
          // The video's own error, worded as every other request that asks for its config words it.
          composition = await selectComposition(bundleDir, name, timeoutMs);
          page = await pages.open(server, composition, 0, timeoutMs, logs.onBrowserLog, onPage);
        }
      }
      logs.walk();
      await page.evaluateHandle(timelineScript);
      const walked = puppeteerEvaluateWithCatchAndTimeout({
        pageFunction: (given) => window.__vidgenTimeline.collect(given),
        args: [{composition: composition.id, durationInFrames: composition.durationInFrames, timeoutMs}],
        frame: null,
        page,
        timeoutInMilliseconds: timeoutMs * 2 + 5000,
      });
      walked.catch(() => undefined);
      const {value} = threw ? {value: null} : await Promise.race([walked, throws.then(() => ({value: null}))]);
      await stopWatching();
      if (keepPage && !threw && !requests.isCancelled(id) && !logs.failedWalking()) {
        keep(keptKey(bundleDir, name), page, logs);
        page = null;
      }
      const {id: composed, width, height, fps, durationInFrames} = composition;
      return {...(value ?? {sequences: [], frames: [], complete: false}), composition: {id: composed, width, height, fps, durationInFrames}};
    } catch (err) {
      if (evaluationTimedOut(err)) {
        Object.assign(err, {kind: 'timeout', message: `Timeout exceeded: the video did not finish rendering within ${timeoutMs}ms while its timeline was read`});
      }
      throw err;
    } finally {
      await stopWatching();
      if (page) await page.close().catch(() => undefined);
    }
  };

  return {layout, timeline, keptStills, dropKept};
};
