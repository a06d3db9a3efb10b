// The scripts the service installs in pages (Runtime.evaluate, one string each). Layout QA is several
// files: its parts (layout-qa-*.js) each declare one factory function at their top level, and
// layout-qa.js calls them. They are joined here, in order, inside one function of their own, so the
// parts are shared between them and none of them lands on the video's window.
import fs from 'node:fs';

// The files, in the order they are joined: each part before those that call it, layout-qa.js last.
export const LAYOUT_QA_FILES = [
  'layout-qa-colors.js',
  'layout-qa-geometry.js',
  'layout-qa-paint.js',
  'layout-qa-elements.js',
  'layout-qa-contrast.js',
  'layout-qa-report.js',
  'layout-qa.js',
];

// `files` (beside this module) as one script that runs them in a scope of their own.
export const pageScript = (files) => {
  const sources = files.map((file) => `// ${file}\n${fs.readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')}`);
  return `(() => {\n${sources.join('\n')}\n})();\n`;
};
