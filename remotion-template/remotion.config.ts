// Settings for `npx remotion studio` and `npx remotion render` in a vidgen workspace.
// Remotion cannot download its own browser offline, so use the machine's Chromium
// (VIDGEN_BROWSER or REMOTION_BROWSER_EXECUTABLE wins) in chrome-for-testing mode.
import {existsSync} from 'node:fs';
import {Config} from '@remotion/cli/config';

const candidates = [
  process.env.VIDGEN_BROWSER,
  process.env.REMOTION_BROWSER_EXECUTABLE,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];
const browser = candidates.find((path): path is string => Boolean(path) && existsSync(path as string));
if (browser) {
  Config.setBrowserExecutable(browser);
  Config.setChromeMode('chrome-for-testing');
}
Config.setVideoImageFormat('jpeg');
