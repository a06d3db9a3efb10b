// Layout QA's verdict (a part of layout-qa.js, joined with it by page-script.mjs): of the problems
// noted at each sample, those that last. A defect (an error kind, or a strict safe area) counts when
// it lasts defectSeconds in a row: a title sliding in through the edge or a transition covering a
// scene for a few frames is no defect. A warning counts when it lasts most of the element's time.
/* exported vidgenLayoutQaReport */
/**
 * @param {(el: Element, kind: string) => boolean} allowed whether the element opted out of a kind
 * @param {(r: DOMRect) => object} round a box as the report gives it
 */
function vidgenLayoutQaReport(allowed, round) {
  const ERROR_KINDS = new Set(['occluded', 'offscreen', 'clipped', 'contrast']);

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
  const lastsLong = (run, options) => (run[1] - run[0] + 1) * options.sampleSeconds >= options.defectSeconds - options.sampleSeconds / 2;
  const mostOfTheTime = (count, visible, fraction) => count >= 1 && count / Math.max(1, visible) > fraction;

  const severityOf = (kind, detail) => (ERROR_KINDS.has(kind) || (kind === 'safe-area' && detail.strict) ? 'error' : 'warning');

  // The problems of one element and kind that count, as the span to report, or null.
  const lasting = (entry, kind, problems, options) => {
    const severity = severityOf(kind, problems[0]);
    const all = {first: problems[0], last: problems[problems.length - 1]};
    if (severity === 'warning') return mostOfTheTime(problems.length, entry.visible.length, options.problemFraction) ? {...all, severity} : null;
    // A whole-frame layer over content for most of its time is a scene on top of it; briefly, a transition.
    if (kind === 'occluded' && problems.length >= 2 && mostOfTheTime(problems.length, entry.visible.length, options.occludedFraction)) return {...all, severity};
    const counted = kind === 'occluded' ? problems.filter((p) => !p.layer) : problems;
    const run = runsOf(counted.map((p) => p.sample)).find((found) => lastsLong(found, options));
    return run ? {first: counted[run[0]], last: counted[run[1]], severity} : null;
  };

  // The problems to report, from every element seen (`records`) and every pair of texts drawn over
  // each other (`pairs`), with layout-qa.js's `options`.
  const report = (records, pairs, options) => {
    const out = [];
    for (const entry of records.values()) {
      for (const [kind, problems] of Object.entries(entry.problems)) {
        const span = lasting(entry, kind, problems, options);
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
  return {report};
}
