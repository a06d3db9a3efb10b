// The contrast of a text against what is painted behind it (a part of layout-qa.js, joined with it by
// page-script.mjs). Solid colours behind a text give it from the CSS alone. Behind a gradient, an
// image or a video only the pixels can: the text waits (pending) for the frame's screenshot, taken at
// most every PROBE_EVERY samples while what is behind it moves, and not again while it stays.
/* exported vidgenLayoutQaContrast */
/**
 * @param {{
 *   colors: ReturnType<typeof vidgenLayoutQaColors>,
 *   paint: ReturnType<typeof vidgenLayoutQaPaint>,
 *   geometry: ReturnType<typeof vidgenLayoutQaGeometry>,
 *   note: (entry: any, kind: string, frame: number, detail: object) => void,
 *   allowed: (el: Element, kind: string) => boolean,
 *   options: () => any,
 *   sampleIndex: () => number,
 * }} parts layout-qa.js's `note` and `allowed`, and its current options and sample
 */
function vidgenLayoutQaContrast({colors, paint, geometry, note, allowed, options, sampleIndex}) {
  const {parseColor, hex, over, contrast} = colors;
  const {style, isSvg, backgroundAt, behind} = paint;
  const {union, glyphs} = geometry;
  const PROBE_EVERY = 3; // samples between two screenshots of a text whose background changes
  const INK_HIDDEN = 'data-vidgen-ink-hidden';
  /** @type {any[]} texts whose contrast waits for the frame's pixels: {entry, el, frame, key, ink, rects, min} */
  let pending = [];

  const noteContrast = (entry, frame, ratio, min, ink, background) => {
    if (ratio < min) note(entry, 'contrast', frame, {ratio: Math.round(ratio * 100) / 100, min, color: hex(ink), background: hex(background)});
  };

  const check = (entry, el, frame, rects, alpha, min) => {
    const s = style(el);
    const ink = parseColor(isSvg(el) ? s.fill : s.color);
    const outlined = (s.textShadow && s.textShadow !== 'none') || parseFloat(s.webkitTextStrokeWidth) > 0;
    if (!ink || ink.a <= 0.05 || outlined || alpha < 0.5 || allowed(el, 'contrast')) return;
    const W = options().width;
    const H = options().height;
    const probes = rects.slice(0, 3).map((r) => [r.left + r.width / 2, r.top + r.height / 2]).filter(([x, y]) => x >= 0 && y >= 0 && x < W && y < H);
    let worst = null;
    let needsPixels = false;
    for (const [x, y] of probes) {
      const backgrounds = backgroundAt(el, x, y, options().pageColor);
      if (!backgrounds || backgrounds.length > 1) {
        needsPixels = true;
        break;
      }
      const ratio = contrast(over(ink, ink.a * alpha, backgrounds[0]), backgrounds[0]);
      if (!worst || ratio < worst.ratio) worst = {ratio, bg: backgrounds[0]};
    }
    if (!needsPixels) {
      if (worst) noteContrast(entry, frame, worst.ratio, min, ink, worst.bg);
      return;
    }
    const under = behind(el, probes);
    // A video or canvas changes its pixels without a change in the DOM: look again every PROBE_EVERY samples.
    const moving = /(^|[;/])(video|canvas)@/.test(under) ? Math.floor(sampleIndex() / PROBE_EVERY) : '';
    // A text that moved less than 16 px or faded less than 0.1 reads the same as before.
    const near = (v) => Math.round(v / 16);
    const key = [hex(ink), alpha.toFixed(1), ...rects.slice(0, 3).map((r) => `${near(r.left)},${near(r.top)},${near(r.width)}`), under, moving].join('|');
    // Screenshots are taken on every PROBE_EVERY-th sample, for all the texts that changed: one
    // picture serves them all (a text not measured yet is measured at once).
    const last = entry.pixels;
    if (last && (last.key === key || sampleIndex() % PROBE_EVERY !== 0)) {
      if (last.low) noteContrast(entry, frame, last.low.ratio, min, ink, last.low.bg);
      return;
    }
    pending.push({entry, el, frame, key, ink: {...ink, a: ink.a * alpha}, rects: rects.slice(0, 3).map((r) => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height})), min});
  };

  // The region to screenshot for the pending texts (null when none waits), with their ink made
  // transparent (the screenshot then shows only what is behind the glyphs).
  const hideInk = () => {
    if (!pending.length) return null;
    const box = union(pending.flatMap((p) => p.rects));
    const x = Math.max(0, Math.floor(box.left));
    const y = Math.max(0, Math.floor(box.top));
    // Half size: a background's colours survive it, and the screenshot costs a quarter.
    const clip = {x, y, width: Math.min(options().width, Math.ceil(box.right)) - x, height: Math.min(options().height, Math.ceil(box.bottom)) - y, scale: 0.5};
    if (clip.width < 1 || clip.height < 1) {
      pending = [];
      return null;
    }
    for (const p of pending) p.el.setAttribute(INK_HIDDEN, '');
    return clip;
  };

  const decode = async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], {type: 'image/png'}));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d', {willReadFrequently: true});
    if (!context) throw new Error('layout QA: no 2d canvas to read the screenshot with');
    context.drawImage(bitmap, 0, 0);
    return context.getImageData(0, 0, bitmap.width, bitmap.height);
  };

  // Each pending text's contrast on the screenshot of what is behind it: the median over the
  // pixels of each line's glyph band (a thin dark stroke in a light gradient does not save it),
  // the worst line.
  const measure = async (base64, clip) => {
    const image = await decode(base64);
    for (const p of pending) {
      p.el.removeAttribute(INK_HIDDEN);
      let low = null;
      for (const rect of p.rects) {
        const band = glyphs(rect);
        const x0 = Math.max(clip.x, Math.floor(band.left));
        const x1 = Math.min(clip.x + clip.width, Math.ceil(band.right));
        const y0 = Math.max(clip.y, Math.floor(band.top));
        const y1 = Math.min(clip.y + clip.height, Math.ceil(band.bottom));
        const step = Math.max(1, Math.floor(Math.sqrt(((x1 - x0) * (y1 - y0)) / 1500)));
        const seen = [];
        for (let y = y0; y < y1; y += step) {
          for (let x = x0; x < x1; x += step) {
            const column = Math.min(image.width - 1, Math.floor((x - clip.x) * clip.scale));
            const row = Math.min(image.height - 1, Math.floor((y - clip.y) * clip.scale));
            const at = (row * image.width + column) * 4;
            const bg = {r: image.data[at], g: image.data[at + 1], b: image.data[at + 2], a: 1};
            seen.push({bg, ratio: contrast(over(p.ink, p.ink.a, bg), bg)});
          }
        }
        if (!seen.length) continue;
        seen.sort((a, b) => a.ratio - b.ratio);
        const median = seen[Math.floor(seen.length / 2)];
        if (!low || median.ratio < low.ratio) low = median;
      }
      const result = {key: p.key, sample: sampleIndex(), low: low && low.ratio < p.min ? low : null};
      p.entry.pixels = result;
      if (result.low) noteContrast(p.entry, p.frame, result.low.ratio, p.min, p.ink, result.low.bg);
    }
    pending = [];
    return true;
  };

  // A page style that makes the texts being measured transparent (configure() installs it).
  const inkHiddenCss = `[${INK_HIDDEN}], [${INK_HIDDEN}] * { color: transparent !important; -webkit-text-fill-color: transparent !important; fill: transparent !important; text-decoration-color: transparent !important; }`;
  const reset = () => {
    pending = [];
  };
  return {check, hideInk, measure, inkHiddenCss, reset};
}
