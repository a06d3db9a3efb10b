// The ops Remotion's renderer runs itself on the newest build: a video's metadata, its stills, one
// still, and the render of the video.
import fs from 'node:fs';
import path from 'node:path';
import {renderOptions} from './render-options.mjs';
import {renderInChunks} from './chunks.mjs';

// `browser`: the warm browser (browser.mjs); `withBundle`, `contentOf`: builds.mjs's; `requests`: cancellation.mjs's.
export const renders = ({renderer, browser, chromiumOptions, logLevel, withBundle, contentOf, requests}) => {
  // Metadata per video and build content: asking the page costs a page and a few hundred ms, and a
  // rebuild of unchanged code (a check, then a render) holds the same configs.
  const compositions = new Map();
  const keyOf = (bundleDir, name) => `${contentOf(bundleDir)}\n${name}`;
  const keep = (bundleDir, name, pending) => {
    const key = keyOf(bundleDir, name);
    const content = `${contentOf(bundleDir)}\n`;
    for (const old of compositions.keys()) if (!old.startsWith(content)) compositions.delete(old);
    compositions.set(key, pending);
    // A failed page is asked again next time; a config remembered since under the key stays.
    pending.catch(() => compositions.get(key) === pending && compositions.delete(key));
    return pending;
  };
  // The config already known (a promise), or undefined.
  const knownComposition = (bundleDir, name) => compositions.get(keyOf(bundleDir, name));
  const selectComposition = async (bundleDir, name, timeoutMs) =>
    knownComposition(bundleDir, name) ?? keep(bundleDir, name, loadComposition(bundleDir, name, timeoutMs));
  // A config a page of the service's own computed (composition-page.mjs's openEvaluated).
  const rememberComposition = (bundleDir, name, composition) => keep(bundleDir, name, Promise.resolve(composition));

  const loadComposition = async (bundleDir, name, timeoutMs) =>
    renderer.selectComposition({
      serveUrl: bundleDir,
      id: name,
      inputProps: {},
      puppeteerInstance: await browser.get(),
      ...browser.noRelaunch,
      timeoutInMilliseconds: timeoutMs,
      chromiumOptions,
      logLevel,
    });

  const metadata = async ({name, timeoutMs}) =>
    withBundle(async (bundleDir) => {
      const {id, width, height, fps, durationInFrames} = await selectComposition(bundleDir, name, timeoutMs);
      return {id, width, height, fps, durationInFrames};
    });

  const stills = (args, progress, id) => withBundle((bundleDir) => stillsFrom(bundleDir, args, progress, id));
  const stillsFrom = async (bundleDir, {name, frames, outputDir, timeoutMs}, progress, id) => {
    const composition = await selectComposition(bundleDir, name, timeoutMs);
    const cancelSignal = requests.signal(id);
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
      puppeteerInstance: await browser.get(),
      ...browser.noRelaunch,
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
      puppeteerInstance: await browser.get(),
      ...browser.noRelaunch,
      timeoutInMilliseconds: timeoutMs,
      chromiumOptions,
      overwrite: true,
      logLevel,
    });
    return {output, width: composition.width, height: composition.height};
  };

  const render = (args, progress, id) => withBundle((bundleDir) => renderFrom(bundleDir, args, progress, id));
  const renderFrom = async (bundleDir, {name, output, codec, concurrency, timeoutMs, ...optional}, progress, id) => {
    const selected = await selectComposition(bundleDir, name, timeoutMs);
    const {inputProps, scale, frameRange, crf, chunks, count} = renderOptions(
      {inputProps: optional.inputProps, scale: optional.scale, frameRange: optional.frameRange, crf: optional.crf, chunks: optional.chunks, codec},
      selected.durationInFrames,
    );
    // The component reads the composition's props (defaults merged with input props, as selectComposition
    // would resolve them): merged here, the cached metadata serves, since a video's config ignores props.
    const composition = {...selected, props: {...selected.props, ...inputProps}};
    const cancelSignal = requests.signal(id);
    const options = {
      composition,
      serveUrl: bundleDir,
      codec,
      outputLocation: output,
      inputProps,
      scale,
      frameRange,
      crf,
      puppeteerInstance: await browser.get(),
      ...browser.noRelaunch,
      concurrency: concurrency ?? null,
      timeoutInMilliseconds: timeoutMs,
      chromiumOptions,
      cancelSignal,
      overwrite: true,
      imageFormat: codec === 'prores' ? 'png' : 'jpeg',
      logLevel,
    };
    if (chunks > 1) {
      await renderInChunks(renderer, options, {chunks, frames: count, progress, cancelSignal});
      return {output};
    }
    let last = 0;
    await renderer.renderMedia({
      ...options,
      onProgress: ({renderedFrames, encodedFrames, progress: fraction, stitchStage}) => {
        const now = Date.now();
        if (now - last < 100 && fraction < 1) return;
        last = now;
        progress({stage: 'render', renderedFrames, encodedFrames, frames: count, progress: fraction, stitchStage});
      },
    });
    return {output};
  };

  return {
    selectComposition,
    knownComposition,
    rememberComposition,
    metadata,
    stills,
    still,
    render,
  };
};

// Remotion pads the frame number in the file name to the width of the longest one.
const stillPath = (outputDir, frame) => {
  const name = fs.readdirSync(outputDir).find((entry) => Number(/\d+/.exec(entry)?.[0]) === frame);
  return name ? path.join(outputDir, name) : null;
};
