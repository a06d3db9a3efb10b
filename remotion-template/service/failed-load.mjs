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
  // The video chose the URL: no control character reaches a message (a line break would start a new one).
  const plain = url.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return {url: plain.length > 160 ? `${plain.slice(0, 157)}...` : plain, reason: log.text.replace(/^Failed to load resource:\s*/, '').split('\n')[0]};
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
