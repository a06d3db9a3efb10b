// Remotion's own renderMedia on a bundle vidgen built: the reference for bench_fps.py.
//
//   node render_media.mjs BUNDLE_DIR COMPOSITION OUTPUT BROWSER   (run with the workspace as cwd)
//
// Remotion's defaults throughout, with the machine's Chromium in chrome-for-testing mode (as the
// workspace's remotion.config.ts gives `npx remotion render`). The browser is opened and the
// composition selected before the clock starts, as vidgen's warm service has both ready; only
// renderMedia is timed. Prints one JSON line: {"seconds", "frames"}.
import {createRequire} from 'node:module';
import path from 'node:path';

const [bundleDir, id, output, browserExecutable] = process.argv.slice(2);
if (!browserExecutable) {
  console.error('usage: node render_media.mjs BUNDLE_DIR COMPOSITION OUTPUT BROWSER');
  process.exit(2);
}
const require = createRequire(path.join(process.cwd(), 'package.json'));
const {openBrowser, selectComposition, renderMedia} = require('@remotion/renderer');

const chromeMode = 'chrome-for-testing';
const browser = await openBrowser('chrome', {browserExecutable, chromeMode, logLevel: 'error'});
try {
  const composition = await selectComposition({serveUrl: bundleDir, id, puppeteerInstance: browser, browserExecutable, chromeMode, logLevel: 'error'});
  const started = performance.now();
  await renderMedia({
    composition,
    serveUrl: bundleDir,
    codec: 'h264',
    outputLocation: output,
    puppeteerInstance: browser,
    browserExecutable,
    chromeMode,
    overwrite: true,
    logLevel: 'error',
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(JSON.stringify({seconds, frames: composition.durationInFrames}) + '\n');
} finally {
  await browser.close({silent: true});
}
