// What the pages the service opens carry beyond the DOM, for `tsc --checkJs` (see tsconfig.json):
// the objects layout-qa.js (with its parts, joined by page-script.mjs) and timeline.js install there. Remotion's own page hooks (remotion_setFrame,
// remotion_setBundleMode, ...) are declared by Remotion's types. Types only: nothing here runs.

/** A region of the page to screenshot, in CSS pixels, and the device pixels per CSS pixel. */
interface VidgenClip {
  x: number;
  y: number;
  width: number;
  height: number;
  scale: number;
}

/** One layout problem as layout-qa.js reports it (PROTOCOL.md, op `layout`). */
interface VidgenLayoutProblem {
  kind: string;
  severity: string; // 'error' or 'warning'
  frame: number | null;
  lastFrame: number | null;
  [field: string]: unknown;
}

interface Window {
  /** layout-qa.js, installed once per layout page. */
  __vidgenLayoutQa: {
    configure(given: {pageColor?: string; [option: string]: unknown}): boolean;
    sample(frames: number[], budgetMs: number): Promise<{done: number; frame: number; clip: VidgenClip | null}>;
    measure(base64: string, clip: VidgenClip): Promise<boolean>;
    report(): VidgenLayoutProblem[];
  };
  /** The frame layout-qa.js is inspecting: a batch that failed is charged to it. */
  __vidgenLayoutQaFrame?: number;
  /** timeline.js, installed once per timeline page. */
  __vidgenTimeline: {
    collect(given: {composition: string; durationInFrames: number; timeoutMs: number}): Promise<{sequences: object[]; frames: number[]; complete: boolean}>;
  };
}
