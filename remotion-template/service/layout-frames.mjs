// Drives layout-qa.js over the sampled frames: many frames per page evaluation (a round trip
// per frame would cost more than inspecting it), and a screenshot of the region the page asks
// for when it needs the pixels behind a text.

const BATCH_MS = 250; // a batch's longest time in the page: progress and cancellation stay prompt
// layout-qa.js's words for a frame whose delayRender() handles never cleared (a page can only send text).
const FRAME_NEVER_READY = /did not render frame \d+ within \d+ms/;

// Capture `clip` of the page as PNG, the way Remotion's own screenshots are taken.
const screenshot = async (page, clip) => {
  const client = page._client();
  await client.send('Target.activateTarget', {targetId: page.target()._targetId});
  const {value} = await client.send('Page.captureScreenshot', {
    format: 'png',
    clip,
    captureBeyondViewport: true,
    optimizeForSpeed: true,
    fromSurface: true,
  });
  return value.data;
};

// `call(pageFunction, args)` evaluates in the page; `at(frame)` tells the caller which frame is
// being inspected (for the errors it reports); `stopped()` is true once the request is cancelled.
export const inspectFrames = async ({page, frames, call, at, stopped, progress}) => {
  let index = 0;
  try {
    while (index < frames.length) {
      if (stopped()) throw new Error('layout QA was cancelled');
      at(frames[index]);
      const {done, frame, clip} = await call((rest, budget) => window.__vidgenLayoutQa.sample(rest, budget), [frames.slice(index), BATCH_MS]);
      at(frame);
      if (clip) await call((data, region) => window.__vidgenLayoutQa.measure(data, region), [await screenshot(page, clip), clip]);
      index += done;
      progress({stage: 'layout', frame});
    }
  } catch (err) {
    // A batch failed at one of its frames: the page knows which.
    const timeout = new Promise((resolve) => setTimeout(resolve, 1000, null));
    const frame = await Promise.race([page.evaluate(() => window.__vidgenLayoutQaFrame), timeout]).catch(() => null);
    if (typeof frame === 'number') at(frame);
    if (err && typeof err === 'object' && FRAME_NEVER_READY.test(String(err.message))) err.kind = 'timeout';
    throw err;
  }
};
