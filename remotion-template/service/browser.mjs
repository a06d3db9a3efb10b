// The warm browser every request shares: opened at start, with downloads denied, and forgotten when it
// dies (killed, out of memory), so the next request opens a new one and the request it served ends with
// kind 'browser-crashed'.
import fs from 'node:fs';

// What a request reports when the browser died under it.
export const crashReport = () => ({
  kind: 'browser-crashed',
  message: 'the browser (Chromium) crashed during the render: its process ended (killed, or out of memory); render again',
});

// `renderer`: @remotion/renderer; `settings`: the service's (browser, the executable to open).
export const warmBrowser = ({renderer, settings, chromiumOptions, logLevel, trace}) => {
  let browserPromise = null;
  let crashes = 0;
  let closing = false;

  const get = () => {
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
          return watch(browser, opening);
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

  const watch = (browser, opening) => {
    browser.connection.transport.websocket.addEventListener('close', () => {
      if (closing || browserPromise !== opening) return;
      crashes++;
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

  // The service is ending: the browser closing now is no crash.
  const close = async () => {
    closing = true;
    if (!browserPromise) return;
    const browser = await browserPromise.catch(() => null);
    if (browser) await browser.close({silent: true}).catch(() => undefined);
  };

  // `crashes()` counts the browsers that died: a request that saw it change was served by one.
  return {get, crashes: () => crashes, noRelaunch, close};
};
