// Layout QA, run inside the composition's page: seek to a frame, inspect what is painted there
// (hit testing and computed styles; the pixels behind a text where its CSS cannot tell), and at
// the end report the problems that last. The render service installs this once per page
// (Runtime.evaluate, so no page CSP applies), then calls window.__vidgenLayoutQa.sample(frames)
// until every frame is seen (layout-frames.mjs: it stops at a frame whose pixels it needs, the
// service screenshots it and hands it to measure()), and report() once.
//
// A defect (cut, off-frame, hidden, unreadable, in a 9:16 or 1:1 safe area) fails when it lasts
// defectSeconds in a row: a title sliding in through the edge or a transition covering a scene
// for a few frames is no defect. A warning counts when it lasts most of the element's time.
(() => {
  const MAX_TEXT = 40;
  const OPAQUE = 0.85; // an alpha (or effective opacity) this high hides what is below
  const VISIBLE = 0.1; // below this effective opacity an element is not on screen
  const COVERED_POINTS = 0.5; // share of an element's sample points that must be hidden
  const ERROR_KINDS = new Set(['occluded', 'offscreen', 'clipped', 'contrast']);
  const PROBE_EVERY = 3; // samples between two screenshots of a text whose background changes
  const INK_HIDDEN = 'data-vidgen-ink-hidden';
  const CONTENT_TAGS = new Set(['img', 'svg', 'canvas', 'video']);
  const SKIPPED_TAGS = new Set(['script', 'style', 'noscript', 'template', 'title', 'desc', 'metadata', 'head']);
  const SHAPES = new Set(['circle', 'rect', 'path', 'ellipse', 'polygon', 'polyline', 'line', 'text', 'tspan', 'use', 'image']);

  // An element seen on screen (the samples where it was, its problems by kind); two texts drawn over each other.
  /** @typedef {{id: number, el: Element, info: any, visible: number[], rendered: number, problems: Record<string, any[]>, pixels?: any}} Entry */
  /** @typedef {{a: Entry, b: Entry, samples: number[], frames: number[]}} Pair */
  let options = null;
  /** @type {WeakMap<Element, number>} */
  let ids = new WeakMap();
  /** @type {Map<number, Entry>} */
  let records = new Map();
  /** @type {Map<string, Pair>} "a|b" -> the pair */
  let pairs = new Map();
  let nextId = 1;

  // ------------------------------------------------------------ colours and styles

  const parseColor = (value) => {
    const match = /rgba?\(([^)]+)\)/.exec(value || '');
    if (!match) return null;
    const parts = match[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    if (parts.length < 3 || parts.some(Number.isNaN)) return null;
    return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
  };
  const colorsIn = (value) => (String(value).match(/rgba?\([^)]+\)/g) || []).map(parseColor).filter((c) => c !== null);
  const hex = (c) => '#' + [c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
  const over = (top, alpha, bottom) => ({
    r: top.r * alpha + bottom.r * (1 - alpha),
    g: top.g * alpha + bottom.g * (1 - alpha),
    b: top.b * alpha + bottom.b * (1 - alpha),
    a: 1,
  });
  const luminance = (c) => {
    const channel = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };

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
  const isSvg = (el) => el instanceof SVGElement;
  const tag = (el) => el.tagName.toLowerCase();

  // The kinds an element opted out of with data-qa-allow="overlap clipped", own or inherited.
  // An opt-out on a full-frame element (a scene, the root) would silence the whole video: ignored.
  const allowed = (el, kind) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const value = node.getAttribute('data-qa-allow');
      if (value && value.split(/[\s,]+/).includes(kind)) {
        const r = node.getBoundingClientRect();
        if (r.width * r.height < 0.9 * options.width * options.height) return true;
      }
    }
    return false;
  };

  // ------------------------------------------------------------ what an element is

  const reactNames = (el) => {
    const key = Object.keys(el).find((k) => k.startsWith('__reactFiber$'));
    const names = [];
    for (let fiber = key ? el[key] : null; fiber && names.length < 12; fiber = fiber.return) {
      const type = fiber.type;
      const fn = typeof type === 'function' ? type : type && typeof type === 'object' ? type.render || type.type : null;
      const name = fn && (fn.displayName || fn.name);
      if (name && /^[A-Z]/.test(name) && !names.includes(name)) names.push(name);
    }
    return names;
  };
  const ownText = (el) =>
    Array.from(el.childNodes)
      .filter((n) => n.nodeType === 3)
      .map((n) => n.textContent)
      .join('')
      .replace(/\s+/g, ' ')
      .trim();
  // Where the element is written: the bundle's data-vg-src stamp, its own or its nearest stamped ancestor's.
  const sourceOf = (el) => el.closest('[data-vg-src]')?.getAttribute('data-vg-src') ?? null;
  const describe = (el) => {
    const text = ownText(el);
    const address = tag(el) === 'img' ? el.getAttribute('src') || '' : '';
    const src = address.startsWith('data:') ? '' : address.split(/[?#]/)[0].split('/').pop(); // a data: URI has no name
    return {
      tag: tag(el),
      text: text.length > MAX_TEXT ? text.slice(0, MAX_TEXT - 1) + '…' : text,
      fullText: text.slice(0, 200),
      src,
      components: reactNames(el),
      source: sourceOf(el),
      background: hex(parseColor(style(el).backgroundColor) || {r: 0, g: 0, b: 0}),
    };
  };
  const idOf = (el) => {
    let id = ids.get(el);
    if (!id) {
      id = nextId++;
      ids.set(el, id);
    }
    return id;
  };
  const record = (el) => {
    const id = idOf(el);
    let entry = records.get(id);
    if (!entry) {
      entry = {id, el, info: describe(el), visible: [], rendered: 0, problems: {}};
      records.set(id, entry);
    }
    return entry;
  };
  const note = (entry, kind, frame, detail) => {
    if (allowed(entry.el, kind)) return;
    if (!Object.keys(entry.problems).length) entry.info = describe(entry.el); // as it looks when wrong
    // Where the element is when it is wrong: the contact sheet outlines it at this frame.
    (entry.problems[kind] ||= []).push({frame, sample: sampleIndex, elementBox: round(entry.el.getBoundingClientRect()), ...detail});
    seen.notes.push({entry, kind, detail});
  };

  // ------------------------------------------------------------ geometry

  const textRects = (el) => {
    if (isSvg(el)) {
      const r = el.getBoundingClientRect();
      return r.width && r.height ? [r] : [];
    }
    const rects = [];
    const range = document.createRange();
    for (const node of el.childNodes) {
      if (node.nodeType !== 3 || !node.textContent.trim()) continue;
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0.5 && r.height > 0.5) rects.push(r);
    }
    return rects;
  };
  const union = (rects) => {
    const u = {left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity};
    for (const r of rects) {
      u.left = Math.min(u.left, r.left);
      u.top = Math.min(u.top, r.top);
      u.right = Math.max(u.right, r.right);
      u.bottom = Math.max(u.bottom, r.bottom);
    }
    u.width = u.right - u.left;
    u.height = u.bottom - u.top;
    return u;
  };
  const intersect = (a, b) => {
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > 0 && h > 0 ? w * h : 0;
  };
  const round = (r) => ({x: Math.round(r.left), y: Math.round(r.top), width: Math.round(r.width), height: Math.round(r.height)});
  // The glyphs sit inside the line box; trimming its leading keeps tightly set lines apart.
  const glyphs = (r) => {
    const trim = r.height * 0.18;
    return {left: r.left, right: r.right, top: r.top + trim, bottom: r.bottom - trim};
  };

  // ------------------------------------------------------------ what covers a point

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

  // The colour behind a text at (x, y): its layers from the text down to the first opaque one.
  // Returns a list of possible colours (several for a gradient), or null when it cannot be known.
  const backgroundAt = (el, x, y) => {
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
    let colors = [options.pageColor];
    for (const layer of layers.reverse()) {
      const next = [];
      for (const top of layer.colors) for (const bottom of colors) next.push(over(top, layer.a, bottom));
      colors = next.slice(0, 16);
    }
    return colors;
  };

  // ------------------------------------------------------------ one frame

  // A task after the ones React queued when the frame was set (its render and commit, then its
  // effects): the DOM then shows the frame.
  const tick = () =>
    new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve(null);
      channel.port2.postMessage(null);
    });
  // Remotion holds a frame for an animation frame after setting it (10-17 ms a frame here); what the
  // video itself waits for (fonts, images, data) has handles of its own, which must be cleared.
  const onlyFrameHandles = () =>
    (window.remotion_delayRenderHandles || []).every((handle) => /^Setting the current frame to /.test((window.remotion_delayRenderTimeouts[handle] || {}).label || ''));
  const seek = async (frame) => {
    window.remotion_setFrame(frame, options.composition, 0);
    await tick();
    await tick();
    const deadline = performance.now() + options.timeoutMs;
    while (window.remotion_renderReady !== true && !onlyFrameHandles()) {
      if (window.remotion_cancelledError !== undefined) throw new Error(String(window.remotion_cancelledError));
      if (performance.now() > deadline) {
        throw new Error(`the page did not render frame ${frame} within ${options.timeoutMs}ms: a delayRender() that is never cleared`);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    if (window.remotion_cancelledError !== undefined) throw new Error(String(window.remotion_cancelledError));
    await document.fonts.ready;
  };

  const samplePoints = (rects, box) => {
    const points = [];
    for (const r of rects.slice(0, 4)) {
      for (const fx of [0.2, 0.5, 0.8]) {
        for (const fy of rects.length > 1 ? [0.5] : [0.3, 0.7]) points.push([r.left + r.width * fx, r.top + r.height * fy]);
      }
    }
    return points.filter(([x, y]) => x >= box.left && x < box.right && y >= box.top && y < box.bottom);
  };

  const clipOf = (el, text) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      const s = style(node);
      if (!isSvg(node) && s.textOverflow === 'ellipsis' && node.scrollWidth > node.clientWidth + 1) {
        return {reason: 'ellipsis', container: node, own: node === el, width: node.scrollWidth, box: node.clientWidth};
      }
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const r = node.getBoundingClientRect();
      // A clip as large as the frame is the frame's edge: that is `offscreen`.
      if (r.left <= 0.5 && r.top <= 0.5 && r.right >= options.width - 0.5 && r.bottom >= options.height - 0.5) continue;
      const tolerance = Math.max(2, text.height * 0.15);
      const cutX = s.overflowX !== 'visible' && (text.left < r.left - tolerance || text.right > r.right + tolerance);
      const cutY = s.overflowY !== 'visible' && (text.top < r.top - tolerance || text.bottom > r.bottom + tolerance);
      if (cutX || cutY) {
        return {reason: 'overflow', container: node, width: Math.round(text.width), box: Math.round(r.width), height: Math.round(text.height), boxHeight: Math.round(r.height)};
      }
    }
    return null;
  };

  const fontPx = (el) => {
    const size = parseFloat(style(el).fontSize) || 0;
    if (isSvg(el)) {
      const m = el instanceof SVGGraphicsElement ? el.getScreenCTM() : null; // the shapes and <svg> have one
      return m ? size * Math.hypot(m.c, m.d) : size;
    }
    const r = el.getBoundingClientRect();
    const scale = el.offsetHeight > 0 ? r.height / el.offsetHeight : 1;
    return size * scale;
  };

  // The candidates of a frame (text and content elements), found again only when elements or
  // texts changed since the last frame; and a frame where nothing in the DOM changed at all (a
  // still stretch: animation is only frame-driven DOM changes in Remotion) is the last one again.
  let candidates = null;
  let treeChanged = true;
  let frameChanged = true;
  let observer = null;
  const watchDom = () => {
    observer = new MutationObserver((records) => noteChanges(records));
    observer.observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true});
  };
  const noteChanges = (records) => {
    if (!records.length) return;
    frameChanged = true;
    if (records.some((r) => r.type !== 'attributes')) treeChanged = true;
  };
  const findCandidates = () => {
    if (!treeChanged && candidates) return candidates;
    treeChanged = false;
    candidates = [];
    for (const el of document.body.querySelectorAll('*')) {
      const name = tag(el);
      if (SKIPPED_TAGS.has(name)) continue;
      const isText = ownText(el) !== '' && !(isSvg(el) && name !== 'text' && name !== 'tspan');
      const isContent = CONTENT_TAGS.has(name) && !(name === 'svg' && el.parentElement && el.parentElement.closest('svg'));
      if (!isText && !isContent) continue;
      if (name === 'tspan' && el.parentElement && ownText(el.parentElement)) continue;
      candidates.push({el, isText});
    }
    return candidates;
  };

  // The safe area's margins in px, and whether a text inside them fails (9:16 and 1:1: a phone
  // app draws over them) or is a warning (wider videos).
  const safeArea = () => {
    const W = options.width;
    const H = options.height;
    const portrait = H >= W * 1.5;
    const side = (portrait ? options.portraitSide : options.safeMargin) * W;
    return {
      margins: {left: side, right: side, top: (portrait ? options.portraitTop : options.safeMargin) * H, bottom: (portrait ? options.portraitBottom : options.safeMargin) * H},
      portrait,
      strict: W <= H,
    };
  };

  // safe-area: too close to the edge of the frame.
  const checkSafeArea = (entry, frame, box, safe) => {
    const distances = {left: box.left, right: options.width - box.right, top: box.top, bottom: options.height - box.bottom};
    const close = Object.keys(safe.margins).filter((edge) => distances[edge] < safe.margins[edge] - 0.5);
    if (!close.length) return;
    const edge = close.sort((a, b) => distances[a] - safe.margins[a] - (distances[b] - safe.margins[b]))[0];
    note(entry, 'safe-area', frame, {edge, distance: Math.max(0, Math.round(distances[edge])), margin: Math.round(safe.margins[edge]), portrait: safe.portrait, strict: safe.strict});
  };

  let sampleIndex = -1; // the position of the frame being inspected among the sampled frames
  /** @type {any[]} texts whose contrast waits for the frame's pixels: {entry, el, frame, key, ink, rects, min} */
  let pending = [];
  // What the last inspected frame found, to repeat on a frame where nothing changed.
  /** @type {{rendered: Entry[], visible: Entry[], notes: {entry: Entry, kind: string, detail: object}[], pairs: Pair[]}} */
  let seen = {rendered: [], visible: [], notes: [], pairs: []};

  const repeatLast = (frame) => {
    for (const entry of seen.rendered) entry.rendered++;
    for (const entry of seen.visible) entry.visible.push(sampleIndex);
    for (const {entry, kind, detail} of seen.notes) entry.problems[kind].push({frame, sample: sampleIndex, ...detail});
    for (const pair of seen.pairs) {
      pair.samples.push(sampleIndex);
      pair.frames.push(frame);
    }
  };

  const inspect = (frame) => {
    sampleIndex++;
    noteChanges(observer.takeRecords());
    if (!frameChanged && sampleIndex > 0) {
      repeatLast(frame);
      return;
    }
    frameChanged = false;
    seen = {rendered: [], visible: [], notes: [], pairs: []};
    styles = new Map();
    opacities = new Map();
    const W = options.width;
    const H = options.height;
    const frameBox = {left: 0, top: 0, right: W, bottom: H};
    const safe = safeArea();
    const texts = [];
    for (const {el, isText} of findCandidates()) {
      if (!el.isConnected) continue;
      const rects = isText ? textRects(el) : [el.getBoundingClientRect()].filter((r) => r.width > 0.5 && r.height > 0.5);
      if (!rects.length || opacity(el) < VISIBLE) continue;
      const box = union(rects);
      const entry = record(el);
      entry.rendered++;
      seen.rendered.push(entry);
      // Entirely outside the frame is not on screen (a title about to slide in): nothing is cut.
      if (intersect(box, frameBox) <= 0) continue;
      entry.visible.push(sampleIndex);
      seen.visible.push(entry);

      // occluded: content hidden behind an opaque element. Full-frame pictures are backdrops.
      if (isText || box.width * box.height < 0.5 * W * H) {
        const points = samplePoints(rects, frameBox);
        const covers = new Map();
        let hidden = 0;
        for (const [x, y] of points) {
          const cover = coverAt(el, x, y);
          if (!cover) continue;
          hidden++;
          const tally = covers.get(cover.el) || {what: cover.what, count: 0};
          tally.count++;
          covers.set(cover.el, tally);
        }
        if (points.length && hidden / points.length >= COVERED_POINTS) {
          const [coverEl, tally] = [...covers.entries()].sort((a, b) => b[1].count - a[1].count)[0];
          const r = coverEl.getBoundingClientRect();
          const layer = r.width * r.height >= 0.9 * W * H; // a whole scene above: a transition
          note(entry, 'occluded', frame, {cover: {...describe(coverEl), what: tally.what}, share: hidden / points.length, layer});
        }
      }
      // A picture (an image or video smaller than a backdrop) is a key element: it must not be
      // cut by the frame nor sit in the safe area either.
      const name = tag(el);
      const picture = !isText && (name === 'img' || name === 'video') && box.width * box.height < 0.5 * W * H && opacity(el) >= 0.5;
      if (!isText && !picture) continue;
      const alpha = opacity(el);
      if (isText) texts.push({el, entry, rects, box, alpha});

      // offscreen: it crosses the edge of the frame. Whether or not that is allowed, it is then
      // not also reported as clipped or in the safe area: an opt-out never turns one kind into another.
      const tolerance = isText ? Math.max(2, (box.height / rects.length) * 0.15) : Math.max(2, 0.05 * Math.min(box.width, box.height));
      const edges = [];
      if (box.left < -tolerance) edges.push('left');
      if (box.right > W + tolerance) edges.push('right');
      if (box.top < -tolerance) edges.push('top');
      if (box.bottom > H + tolerance) edges.push('bottom');
      if (edges.length) {
        note(entry, 'offscreen', frame, {edges, rect: round(box)});
        continue;
      }
      if (!isText) {
        checkSafeArea(entry, frame, box, safe);
        continue;
      }

      // clipped: the text is cut by a box that hides its overflow, or shortened with an ellipsis.
      const clip = clipOf(el, box);
      if (clip) {
        const {container, ...rest} = clip;
        note(entry, 'clipped', frame, {...rest, container: describe(container), rect: round(box)});
      }

      checkSafeArea(entry, frame, box, safe);

      // tiny: text smaller than a share of the frame height.
      const px = fontPx(el);
      if (px > 0 && px < options.minTextHeight * H) note(entry, 'tiny', frame, {px: Math.round(px * 10) / 10, min: Math.round(options.minTextHeight * H * 10) / 10});

      // contrast: the text against what is painted behind it; small text needs more.
      const min = px > 0 && px < options.smallText * H ? options.minContrastSmall : options.minContrast;
      checkContrast(entry, el, frame, rects, alpha, min);
    }

    // overlap: text drawn over other text (both clearly visible).
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i];
        const b = texts[j];
        if (a.alpha < 0.5 || b.alpha < 0.5 || a.el.contains(b.el) || b.el.contains(a.el)) continue;
        if (intersect(a.box, b.box) <= 0) continue;
        let shared = 0;
        for (const ra of a.rects) for (const rb of b.rects) shared += intersect(glyphs(ra), glyphs(rb));
        const area = (rects) => rects.reduce((sum, r) => sum + r.width * r.height * 0.64, 0);
        if (shared < 0.1 * Math.min(area(a.rects), area(b.rects))) continue;
        if (allowed(a.el, 'overlap') || allowed(b.el, 'overlap')) continue;
        const key = `${a.entry.id}|${b.entry.id}`;
        const pair = pairs.get(key) || {a: a.entry, b: b.entry, samples: [], frames: []};
        pair.samples.push(sampleIndex);
        pair.frames.push(frame);
        pairs.set(key, pair);
        seen.pairs.push(pair);
      }
    }
  };

  // ------------------------------------------------------------ contrast

  const noteContrast = (entry, frame, ratio, min, ink, background) => {
    if (ratio < min) note(entry, 'contrast', frame, {ratio: Math.round(ratio * 100) / 100, min, color: hex(ink), background: hex(background)});
  };

  // Solid colours behind a text give its contrast from the CSS alone. Behind a gradient, an
  // image or a video only the pixels can: the text waits for the frame's screenshot, taken at
  // most every PROBE_EVERY samples while what is behind it moves, and not again while it stays.
  const checkContrast = (entry, el, frame, rects, alpha, min) => {
    const s = style(el);
    const ink = parseColor(isSvg(el) ? s.fill : s.color);
    const outlined = (s.textShadow && s.textShadow !== 'none') || parseFloat(s.webkitTextStrokeWidth) > 0;
    if (!ink || ink.a <= 0.05 || outlined || alpha < 0.5 || allowed(el, 'contrast')) return;
    const W = options.width;
    const H = options.height;
    const probes = rects.slice(0, 3).map((r) => [r.left + r.width / 2, r.top + r.height / 2]).filter(([x, y]) => x >= 0 && y >= 0 && x < W && y < H);
    let worst = null;
    let needsPixels = false;
    for (const [x, y] of probes) {
      const backgrounds = backgroundAt(el, x, y);
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
    const moving = /(^|[;/])(video|canvas)@/.test(under) ? Math.floor(sampleIndex / PROBE_EVERY) : '';
    // A text that moved less than 16 px or faded less than 0.1 reads the same as before.
    const near = (v) => Math.round(v / 16);
    const key = [hex(ink), alpha.toFixed(1), ...rects.slice(0, 3).map((r) => `${near(r.left)},${near(r.top)},${near(r.width)}`), under, moving].join('|');
    // Screenshots are taken on every PROBE_EVERY-th sample, for all the texts that changed: one
    // picture serves them all (a text not measured yet is measured at once).
    const last = entry.pixels;
    if (last && (last.key === key || sampleIndex % PROBE_EVERY !== 0)) {
      if (last.low) noteContrast(entry, frame, last.low.ratio, min, ink, last.low.bg);
      return;
    }
    pending.push({entry, el, frame, key, ink: {...ink, a: ink.a * alpha}, rects: rects.slice(0, 3).map((r) => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height})), min});
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

  // The region to screenshot for the pending texts, with their ink made transparent (the
  // screenshot then shows only what is behind the glyphs).
  const hideInk = () => {
    const box = union(pending.flatMap((p) => p.rects));
    const x = Math.max(0, Math.floor(box.left));
    const y = Math.max(0, Math.floor(box.top));
    // Half size: a background's colours survive it, and the screenshot costs a quarter.
    const clip = {x, y, width: Math.min(options.width, Math.ceil(box.right)) - x, height: Math.min(options.height, Math.ceil(box.bottom)) - y, scale: 0.5};
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
      const result = {key: p.key, sample: sampleIndex, low: low && low.ratio < p.min ? low : null};
      p.entry.pixels = result;
      if (result.low) noteContrast(p.entry, p.frame, result.low.ratio, p.min, p.ink, result.low.bg);
    }
    pending = [];
    return true;
  };

  // ------------------------------------------------------------ the report

  // The runs of consecutive samples in `samples` (sorted sample indices), as [first, last] positions.
  const runsOf = (samples) => {
    const runs = [];
    samples.forEach((sample, i) => {
      if (i > 0 && sample === samples[i - 1] + 1) runs[runs.length - 1][1] = i;
      else runs.push([i, i]);
    });
    return runs;
  };
  // A sample stands for the time until the next one: a run of n lasts n samples' time.
  const lastsLong = (run) => (run[1] - run[0] + 1) * options.sampleSeconds >= options.defectSeconds - options.sampleSeconds / 2;
  const mostOfTheTime = (count, visible, fraction) => count >= 1 && count / Math.max(1, visible) > fraction;

  const severityOf = (kind, detail) => (ERROR_KINDS.has(kind) || (kind === 'safe-area' && detail.strict) ? 'error' : 'warning');

  // The problems of one element and kind that count, as the span to report, or null.
  const lasting = (entry, kind, problems) => {
    const severity = severityOf(kind, problems[0]);
    const all = {first: problems[0], last: problems[problems.length - 1]};
    if (severity === 'warning') return mostOfTheTime(problems.length, entry.visible.length, options.problemFraction) ? {...all, severity} : null;
    // A whole-frame layer over content for most of its time is a scene on top of it; briefly, a transition.
    if (kind === 'occluded' && problems.length >= 2 && mostOfTheTime(problems.length, entry.visible.length, options.occludedFraction)) return {...all, severity};
    const counted = kind === 'occluded' ? problems.filter((p) => !p.layer) : problems;
    const run = runsOf(counted.map((p) => p.sample)).find(lastsLong);
    return run ? {first: counted[run[0]], last: counted[run[1]], severity} : null;
  };

  const report = () => {
    const out = [];
    for (const entry of records.values()) {
      for (const [kind, problems] of Object.entries(entry.problems)) {
        const span = lasting(entry, kind, problems);
        if (!span) continue;
        const {sample, ...detail} = span.first;
        out.push({
          kind,
          severity: span.severity,
          frame: span.first.frame,
          lastFrame: span.last.frame,
          seconds: Math.round((span.last.sample - span.first.sample + 1) * options.sampleSeconds * 10) / 10,
          count: problems.length,
          visible: entry.visible.length,
          element: entry.info,
          detail,
        });
      }
      // Text that is drawn, but never inside the frame at any sampled frame.
      if (entry.info.text && entry.visible.length === 0 && entry.rendered >= 2 && !allowed(entry.el, 'offscreen')) {
        const r = entry.el.getBoundingClientRect();
        out.push({kind: 'offscreen', severity: 'error', frame: null, lastFrame: null, count: entry.rendered, visible: 0, element: entry.info, detail: {never: true, rect: round(r)}});
      }
    }
    for (const pair of pairs.values()) {
      const visible = Math.min(pair.a.visible.length, pair.b.visible.length);
      if (!mostOfTheTime(pair.frames.length, visible, options.problemFraction)) continue;
      out.push({
        kind: 'overlap',
        severity: 'warning',
        frame: pair.frames[0],
        lastFrame: pair.frames[pair.frames.length - 1],
        count: pair.frames.length,
        visible,
        element: pair.a.info,
        detail: {other: pair.b.info},
      });
    }
    return out;
  };

  window.__vidgenLayoutQa = {
    configure(given) {
      options = {...given, pageColor: parseColor(given.pageColor) || {r: 0, g: 0, b: 0, a: 1}};
      ids = new WeakMap();
      records = new Map();
      pairs = new Map();
      sampleIndex = -1;
      pending = [];
      seen = {rendered: [], visible: [], notes: [], pairs: []};
      candidates = null;
      treeChanged = true;
      frameChanged = true;
      watchDom();
      // Hit testing must see every element, whatever pointer-events the video sets; a text
      // being measured shows what is behind it.
      const force = document.createElement('style');
      force.textContent = `* { pointer-events: auto !important; } [${INK_HIDDEN}], [${INK_HIDDEN}] * { color: transparent !important; -webkit-text-fill-color: transparent !important; fill: transparent !important; text-decoration-color: transparent !important; }`;
      document.head.appendChild(force);
      return true;
    },
    // Inspect `frames` in order until one needs its pixels or budgetMs have passed: {done, frame,
    // clip} where clip, when set, is the region to screenshot now and hand to measure().
    async sample(frames, budgetMs) {
      const started = performance.now();
      let done = 0;
      for (const frame of frames) {
        window.__vidgenLayoutQaFrame = frame;
        await seek(frame);
        inspect(frame);
        done++;
        const clip = pending.length ? hideInk() : null;
        if (clip) return {done, frame, clip};
        if (performance.now() - started > budgetMs) break;
      }
      return {done, frame: frames[done - 1], clip: null};
    },
    measure,
    report,
  };
})();
