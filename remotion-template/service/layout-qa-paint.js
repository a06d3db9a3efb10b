// What the page paints where, as its computed styles tell (a part of layout-qa.js, joined with it by
// page-script.mjs): what hides an element at a point, and the colour behind a text there. Styles are
// read once per frame: forgetStyles() before the next.
/* exported vidgenLayoutQaPaint */
/** @param {ReturnType<typeof vidgenLayoutQaColors>} colors */
function vidgenLayoutQaPaint(colors) {
  const {parseColor, colorsIn, hex, over} = colors;
  const OPAQUE = 0.85; // an alpha (or effective opacity) this high hides what is below
  const CONTENT_TAGS = new Set(['img', 'svg', 'canvas', 'video']);
  const SHAPES = new Set(['circle', 'rect', 'path', 'ellipse', 'polygon', 'polyline', 'line', 'text', 'tspan', 'use', 'image']);

  let styles = new Map();
  const style = (el) => {
    let s = styles.get(el);
    if (!s) {
      s = getComputedStyle(el);
      styles.set(el, s);
    }
    return s;
  };
  let opacities = new Map();
  const opacity = (el) => {
    if (!el || el.nodeType !== 1) return 1;
    if (opacities.has(el)) return opacities.get(el);
    const s = style(el);
    const own = s.visibility === 'hidden' || s.visibility === 'collapse' ? 0 : Number(s.opacity);
    const value = own * opacity(el.parentElement);
    opacities.set(el, value);
    return value;
  };
  const forgetStyles = () => {
    styles = new Map();
    opacities = new Map();
  };
  const isSvg = (el) => el instanceof SVGElement;
  const tag = (el) => el.tagName.toLowerCase();

  // Does `el` paint something opaque at a point it was hit at?
  const paintsOpaque = (el) => {
    if (opacity(el) < OPAQUE) return null;
    const s = style(el);
    const name = tag(el);
    if (isSvg(el)) {
      if (!SHAPES.has(name) || name === 'text' || name === 'tspan') {
        const background = parseColor(s.backgroundColor);
        return background && background.a >= OPAQUE ? `an svg with background ${hex(background)}` : null;
      }
      const fill = parseColor(s.fill);
      if (fill && fill.a * Number(s.fillOpacity || 1) >= OPAQUE) return `an svg ${name} filled ${hex(fill)}`;
      const stroke = parseColor(s.stroke);
      if (stroke && stroke.a * Number(s.strokeOpacity || 1) >= OPAQUE && parseFloat(s.strokeWidth) >= 3) {
        return `an svg ${name} stroked ${hex(stroke)}`;
      }
      return null;
    }
    if (name === 'img' || name === 'video' || name === 'canvas') return `an ${name}`;
    const background = parseColor(s.backgroundColor);
    if (background && background.a >= OPAQUE) return `a ${name} with background ${hex(background)}`;
    if (s.backgroundImage && s.backgroundImage !== 'none') {
      const stops = colorsIn(s.backgroundImage);
      if (/url\(/.test(s.backgroundImage)) return `a ${name} with a background image`;
      if (stops.length && stops.every((c) => c.a >= OPAQUE)) return `a ${name} with a gradient background`;
    }
    return null;
  };

  // What hides `el` at (x, y): null when it shows, else {el, what}.
  const coverAt = (el, x, y) => {
    for (const hit of document.elementsFromPoint(x, y)) {
      if (hit === el || el.contains(hit)) return null;
      if (hit.contains(el)) continue; // an ancestor paints below its children
      const what = paintsOpaque(hit);
      if (what) return {el: hit, what};
    }
    return null;
  };

  // The colour behind a text at (x, y): its layers from the text down to the first opaque one, over
  // `pageColor`. Returns a list of possible colours (several for a gradient), or null when it cannot be known.
  const backgroundAt = (el, x, y, pageColor) => {
    const layers = [];
    let below = false;
    for (const hit of document.elementsFromPoint(x, y)) {
      if (!below && hit !== el && !el.contains(hit)) continue; // above the text
      below = true;
      // The text's own box paints its background behind it; its inline children are the text.
      if (hit !== el && el.contains(hit)) continue;
      if (hit === el && isSvg(el)) continue;
      const alpha = opacity(hit);
      if (alpha < 0.02) continue;
      const s = style(hit);
      const name = tag(hit);
      if (name === 'img' || name === 'video' || name === 'canvas' || name === 'image') return null;
      if (isSvg(hit)) {
        if (!SHAPES.has(name) || name === 'text' || name === 'tspan') continue;
        const fill = parseColor(s.fill);
        if (!fill) {
          if (s.fill && s.fill !== 'none') return null; // a gradient or pattern fill
          continue;
        }
        const a = fill.a * Number(s.fillOpacity || 1) * alpha;
        layers.push({colors: [fill], a});
        if (a >= 0.99) break;
        continue;
      }
      if (s.backgroundImage && s.backgroundImage !== 'none') {
        if (/url\(/.test(s.backgroundImage)) return null;
        const stops = colorsIn(s.backgroundImage);
        if (!stops.length || stops.some((c) => c.a < 0.99)) return null;
        layers.push({colors: stops, a: alpha});
        if (alpha >= 0.99) break;
        continue;
      }
      const background = parseColor(s.backgroundColor);
      if (background && background.a > 0) {
        const a = background.a * alpha;
        layers.push({colors: [background], a});
        if (a >= 0.99) break;
      }
    }
    // Below every layer is the page itself: transparent, which a video shows as black.
    let colors = [pageColor];
    for (const layer of layers.reverse()) {
      const next = [];
      for (const top of layer.colors) for (const bottom of colors) next.push(over(top, layer.a, bottom));
      colors = next.slice(0, 16);
    }
    return colors;
  };

  // Whether an element paints anything of its own (a layout box without a background does not).
  const paints = (el) => {
    const s = style(el);
    if (CONTENT_TAGS.has(tag(el)) || SHAPES.has(tag(el))) return true;
    const background = parseColor(s.backgroundColor);
    return (background && background.a > 0) || (s.backgroundImage && s.backgroundImage !== 'none');
  };
  // What is painted behind a text, as far as the DOM tells: the elements under it that paint, and where they are.
  const behind = (el, probes) =>
    probes
      .map(([x, y]) =>
        document
          .elementsFromPoint(x, y)
          .filter((hit) => hit !== el && !el.contains(hit) && paints(hit))
          .slice(0, 4)
          .map((hit) => {
            const r = hit.getBoundingClientRect();
            return `${tag(hit)}@${Math.round(r.left)},${Math.round(r.top)},${Math.round(r.width)},${Math.round(r.height)},${opacity(hit).toFixed(2)},${style(hit).transform}`;
          })
          .join(';'),
      )
      .join('/');

  return {CONTENT_TAGS, style, opacity, forgetStyles, isSvg, tag, coverAt, backgroundAt, behind};
}
