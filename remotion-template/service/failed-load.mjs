// A picture, texture, font or video the page could not load (a 404, a host the jail refuses), as
// Chrome logs it, with the URL as the video wrote it (the build's own origin taken off); the favicon
// is Chrome's own request, never the video's.
export const failedLoad = (log, serveUrl) => {
  if (log.type !== 'error' || !/^Failed to load resource/.test(log.text)) return null;
  const raw = log.stackTrace?.[0]?.url;
  if (!raw) return null;
  let url = raw;
  try {
    const parsed = new URL(raw);
    if (parsed.pathname.endsWith('/favicon.ico')) return null;
    if (parsed.origin === new URL(serveUrl).origin) url = decodeURIComponent(parsed.pathname).replace(/^\/public\//, '');
  } catch {
    // not a URL Chrome could parse: shown as logged
  }
  return {url: url.length > 160 ? `${url.slice(0, 157)}...` : url, reason: log.text.replace(/^Failed to load resource:\s*/, '')};
};

// The layout problem for a failed load, first seen at `frame`.
export const failedLoadProblem = ({url, reason, frame}) => ({
  kind: 'media-failed',
  severity: 'error',
  frame,
  lastFrame: frame,
  element: {tag: 'resource', src: url},
  detail: {url, reason},
});
