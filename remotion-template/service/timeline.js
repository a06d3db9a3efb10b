// The video's timeline, read inside the composition's page: every <Sequence> React has mounted
// (a <Series>'s scenes are Sequences too), with the frames it covers, found by walking React's
// fibers. A Sequence's fiber exists whether or not its frames are showing, but its children mount
// only while it shows: the walk moves to the start of each Sequence found and walks again, until
// no new one appears. It never waits for delayRender(): only the tree matters here, and a video
// whose assets never load is the stills' error to report. The render service installs this once
// (Runtime.evaluate) and calls window.__vidgenTimeline.collect(options).
(() => {
  const MAX_FRAMES = 60; // seeks per video: a scene list longer than this is checked in part

  const rootFiber = () => {
    for (const node of [document.getElementById('video-container'), ...document.querySelectorAll('body, body *')]) {
      const key = node && Object.keys(node).find((k) => k.startsWith('__reactContainer$'));
      if (key) return node[key].stateNode?.current ?? node[key]; // the committed tree, not its alternate
    }
    return null;
  };

  // A Sequence's context value, as Remotion's Sequence provides it (SequenceContext.Provider).
  const sequenceValue = (fiber) => {
    const value = fiber.memoizedProps?.value;
    return value && typeof value === 'object' && typeof value.cumulatedFrom === 'number' && 'relativeFrom' in value && 'absoluteFrom' in value && typeof value.id === 'string'
      ? value
      : null;
  };

  const nameOf = (type) => (typeof type === 'function' ? type.displayName || type.name || null : type && typeof type === 'object' ? nameOf(type.render || type.type) : null);

  // Which series a scene belongs to: the component above its Sequence (Remotion's SeriesInner or
  // TransitionSeriesInner).
  const seriesOf = (fiber) => {
    for (let f = fiber.return, depth = 0; f && depth < 40; f = f.return, depth++) {
      const name = nameOf(f.type);
      if (name === 'SeriesInner') return 'Series';
      if (name === 'TransitionSeriesInner') return 'TransitionSeries';
    }
    return null;
  };

  // Every Sequence in the committed tree: {id, parent, start, duration, source, name, scene, series}.
  const walk = (found) => {
    const root = rootFiber();
    if (!root) return false;
    /** @type {[any, string | null][]} fibers to visit, with the id of the Sequence they are in */
    const stack = [[root, null]];
    let lazy = false; // has the video's own (lazily loaded) component rendered?
    for (let next = stack.pop(); next; next = stack.pop()) {
      const [fiber, parent] = next;
      let inside = parent;
      const value = sequenceValue(fiber);
      if (value && fiber.return) {
        const props = fiber.return.memoizedProps || {};
        const from = typeof props.from === 'number' ? props.from : 0;
        const duration = typeof props.durationInFrames === 'number' ? props.durationInFrames : Infinity;
        if (!found.has(value.id)) {
          const scene = '_remotionInternalSingleChildComponent' in props; // made by a Series from its Series.Sequence
          found.set(value.id, {
            id: value.id,
            parent,
            // As Remotion decides what shows: from the parent's start plus `from`, for `durationInFrames`.
            start: value.cumulatedFrom + from,
            duration: Number.isFinite(duration) ? duration : null,
            source: typeof props['data-vg-src'] === 'string' ? props['data-vg-src'] : null,
            name: typeof props.name === 'string' ? props.name : null,
            component: scene ? nameOf(props._remotionInternalSingleChildComponent) : null,
            scene,
            series: scene ? seriesOf(fiber.return) : null,
          });
        }
        inside = value.id;
      }
      if (fiber.elementType && fiber.elementType.$$typeof === Symbol.for('react.lazy') && fiber.child) lazy = true;
      for (let child = fiber.child; child; child = child.sibling) stack.push([child, inside]);
    }
    return lazy;
  };

  const nextPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

  // Seek without waiting for the frame to be ready: Remotion applies the frame on the next paint.
  const seek = async (frame, composition) => {
    window.remotion_setFrame(frame, composition, 0);
    await nextPaint();
    await nextPaint();
  };

  const collect = async ({composition, durationInFrames, timeoutMs}) => {
    const found = new Map();
    const deadline = performance.now() + timeoutMs;
    // The video's component is loaded lazily: wait until it has rendered (not until it is ready).
    while (!walk(found)) {
      if (window.remotion_cancelledError !== undefined || performance.now() > deadline) {
        return {sequences: [...found.values()], frames: [], complete: false};
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const visited = [0];
    const shows = (sequence, frame) => {
      for (let s = sequence; s; s = found.get(s.parent)) {
        if (frame < s.start || (s.duration !== null && frame >= s.start + s.duration)) return false;
      }
      return true;
    };
    for (;;) {
      // The first frame where a Sequence whose children were never mounted shows.
      const next = [...found.values()]
        .map((s) => [s, Math.ceil(s.start)])
        .filter(([s, frame]) => frame > 0 && frame < durationInFrames && !visited.includes(frame) && shows(s, frame) && !visited.some((f) => shows(s, f)))
        .map(([, frame]) => frame)
        .sort((a, b) => a - b)[0];
      if (next === undefined) return {sequences: [...found.values()], frames: visited, complete: true};
      if (visited.length >= MAX_FRAMES || window.remotion_cancelledError !== undefined) {
        return {sequences: [...found.values()], frames: visited, complete: false};
      }
      visited.push(next);
      await seek(next, composition);
      walk(found);
    }
  };

  window.__vidgenTimeline = {collect};
})();
