// A render in chunks (`vidgen render --chunks N`): the frames split into N ranges rendered at once on the
// same warm browser, each with its share of the concurrency, then joined with Remotion's combineChunks
// as Remotion Lambda does it: each chunk an `h264-ts` video and its sound apart (separateAudioTo) as AAC
// rendered forSeamlessAacConcatenation (padded to AAC frame boundaries, which combineChunks cuts exactly),
// every chunk the same length but the last. The TS videos are joined without re-encoding, the AAC without
// a gap or a click. Not `pcm-16` chunks: in Remotion 4.0.527 combineChunks joins an h264 render's chunk
// sound by copying it into the AAC track (`-c:a copy`), which fails on PCM (ffmpeg exit 234).
// Chunk files sit beside the output (the staging folder) and are removed whatever happens.
import fs from 'node:fs';
import os from 'node:os';

// The chunks of frames first..last (inclusive): [first, last] pairs, each ceil(count / n) long but the
// last, which is shorter or equal. Fewer than n when n does not divide that way (10 frames in 4: 3+3+3+1;
// 9 frames in 4: 3+3+3); framesPerChunk is what combineChunks is told.
export const splitRanges = (first, last, n) => {
  const count = last - first + 1;
  if (!Number.isInteger(n) || n < 1 || n > count) throw Object.assign(new Error(`chunks must be 1 to ${count}`), {kind: 'usage'});
  const framesPerChunk = Math.ceil(count / n);
  const ranges = [];
  for (let start = first; start <= last; start += framesPerChunk) ranges.push([start, Math.min(last, start + framesPerChunk - 1)]);
  return {ranges, framesPerChunk};
};

// Each chunk's share of the frames rendered at once: the render's concurrency (Remotion's default, half
// the cores, when none was given) divided among them, at least 1 each.
export const shareOf = (concurrency, chunks, cores = os.availableParallelism()) =>
  Math.max(1, Math.floor((concurrency ?? Math.max(1, Math.round(cores / 2))) / chunks));

// Render `options` (renderMedia's, for the whole video) as `chunks` chunks into options.outputLocation.
// `progress(event)`: one render's progress, summed over the chunks; `cancelSignal`: the request's.
export const renderInChunks = async (renderer, options, {chunks, frames, progress, cancelSignal}) => {
  const output = options.outputLocation;
  const {ranges, framesPerChunk} = splitRanges(0, frames - 1, chunks);
  const files = ranges.map((_, index) => ({video: `${output}.chunk-${index}.ts`, audio: `${output}.chunk-${index}.aac`}));
  // One signal for every chunk and the join: the request's cancel, or a chunk's failure, stops them all.
  const local = renderer.makeCancelSignal();
  cancelSignal(() => local.cancel());
  const done = ranges.map(() => ({rendered: 0, encoded: 0}));
  let last = 0;
  const report = (stitchStage, fraction) => {
    const now = Date.now();
    if (now - last < 100 && fraction < 1) return;
    last = now;
    const renderedFrames = done.reduce((sum, chunk) => sum + chunk.rendered, 0);
    const encodedFrames = done.reduce((sum, chunk) => sum + chunk.encoded, 0);
    progress({stage: 'render', renderedFrames, encodedFrames, frames, progress: fraction, stitchStage});
  };
  try {
    const results = await Promise.allSettled(
      ranges.map((frameRange, index) =>
        renderer
          .renderMedia({
            ...options,
            codec: 'h264-ts',
            audioCodec: 'aac',
            outputLocation: files[index].video,
            separateAudioTo: files[index].audio,
            forSeamlessAacConcatenation: true,
            compositionStart: 0,
            frameRange,
            concurrency: shareOf(options.concurrency, ranges.length),
            cancelSignal: local.cancelSignal,
            onProgress: ({renderedFrames, encodedFrames}) => {
              done[index] = {rendered: renderedFrames, encoded: encodedFrames};
              // Rendering and encoding are 90% of the work, the join the rest.
              report('encoding', (0.45 * done.reduce((sum, chunk) => sum + chunk.rendered + chunk.encoded, 0)) / frames);
            },
          })
          .catch((err) => {
            local.cancel();
            throw err;
          }),
      ),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    await renderer.combineChunks({
      outputLocation: output,
      videoFiles: files.map((file) => file.video),
      audioFiles: files.map((file) => file.audio),
      codec: 'h264',
      audioCodec: 'aac',
      fps: options.composition.fps,
      framesPerChunk,
      preferLossless: false,
      compositionDurationInFrames: frames,
      cancelSignal: local.cancelSignal,
      logLevel: options.logLevel,
      onProgress: ({totalProgress}) => report('muxing', 0.9 + 0.1 * totalProgress),
    });
    report('muxing', 1);
  } finally {
    for (const file of files) for (const path of [file.video, file.audio]) fs.rmSync(path, {force: true});
  }
};
