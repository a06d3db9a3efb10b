// Layout QA, run inside the composition's page: seek to a frame, inspect what is painted there
// (hit testing and computed styles; the pixels behind a text where its CSS cannot tell), and at
// the end report the problems that last. The render service installs this once per page
// (Runtime.evaluate, so no page CSP applies), then calls window.__vidgenLayoutQa.sample(frames)
// until every frame is seen (layout-frames.mjs: it stops at a frame whose pixels it needs, the
// service screenshots it and hands it to measure()), and report() once.
//
// This file is the sampling; its parts are the layout-qa-*.js files, each one factory function.
// page-script.mjs joins them and this file into one script with a scope of its own (LAYOUT_QA_FILES).
/* global vidgenLayoutQaColors, vidgenLayoutQaGeometry, vidgenLayoutQaPaint, vidgenLayoutQaElements, vidgenLayoutQaContrast, vidgenLayoutQaReport */
(() => {
  const VISIBLE = 0.1; // below this effective opacity an element is not on screen
  const COVERED_POINTS = 0.5; // share of an element's sample points that must be hidden
  const SKIPPED_TAGS = new Set(['script', 'style', 'noscript', 'template', 'title', 'desc', 'metadata', 'head']);

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

  const colors = vidgenLayoutQaColors();
  const geometry = vidgenLayoutQaGeometry();
  const {textRects, union, intersect, round, glyphs} = geometry;
  const paint = vidgenLayoutQaPaint(colors);
  const {CONTENT_TAGS, style, opacity, forgetStyles, isSvg, tag, coverAt} = paint;
  const {ownText, describe} = vidgenLayoutQaElements(colors, paint);

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

  // ------------------------------------------------------------ what was seen

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

  const contrastCheck = vidgenLayoutQaContrast({colors, paint, geometry, note, allowed, options: () => options, sampleIndex: () => sampleIndex});
  const {report} = vidgenLayoutQaReport(allowed, round);

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
    forgetStyles();
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
      contrastCheck.check(entry, el, frame, rects, alpha, min);
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

  window.__vidgenLayoutQa = {
    configure(given) {
      options = {...given, pageColor: colors.parseColor(given.pageColor) || {r: 0, g: 0, b: 0, a: 1}};
      ids = new WeakMap();
      records = new Map();
      pairs = new Map();
      sampleIndex = -1;
      contrastCheck.reset();
      seen = {rendered: [], visible: [], notes: [], pairs: []};
      candidates = null;
      treeChanged = true;
      frameChanged = true;
      watchDom();
      // Hit testing must see every element, whatever pointer-events the video sets; a text
      // being measured shows what is behind it.
      const force = document.createElement('style');
      force.textContent = `* { pointer-events: auto !important; } ${contrastCheck.inkHiddenCss}`;
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
        const clip = contrastCheck.hideInk();
        if (clip) return {done, frame, clip};
        if (performance.now() - started > budgetMs) break;
      }
      return {done, frame: frames[done - 1], clip: null};
    },
    measure: contrastCheck.measure,
    report: () => report(records, pairs, options),
  };
})();
