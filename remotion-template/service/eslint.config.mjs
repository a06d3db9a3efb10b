// Lint for the render service itself (run from this folder: file patterns are relative to it) (Node, and the scripts it installs in pages): ESLint's own
// rules only, so the config needs no package beside the ESLint that runs it.
const node = Object.fromEntries(
  [
    ...['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate'],
    ...['queueMicrotask', 'structuredClone'],
    'window', // in the functions the service sends to pages to evaluate there
  ].map((name) => [name, 'readonly']),
);
const browser = Object.fromEntries(
  [
    'window', 'document', 'getComputedStyle', 'MutationObserver', 'Node', 'NodeFilter', 'Element', 'HTMLElement', 'SVGElement', 'SVGGraphicsElement',
    'Image', 'DOMMatrix', 'DOMRect', 'performance', 'requestAnimationFrame', 'CSS', 'OffscreenCanvas', 'createImageBitmap', 'Blob',
    'atob', 'btoa', 'navigator', 'location', 'MessageChannel', 'setTimeout', 'clearTimeout',
  ].map((name) => [name, 'readonly']),
);
const rules = {
  'no-undef': 'error',
  // `const {dropped, ...kept} = value` leaves out `dropped` on purpose.
  'no-unused-vars': ['error', {args: 'none', caughtErrors: 'none', ignoreRestSiblings: true}],
  'no-unreachable': 'error',
  'no-dupe-keys': 'error',
  'no-duplicate-case': 'error',
  'no-self-assign': 'error',
  'no-constant-condition': ['error', {checkLoops: false}],
  'no-redeclare': 'error',
  'no-shadow-restricted-names': 'error',
  'no-var': 'error',
  'prefer-const': 'error',
  eqeqeq: ['error', 'smart'],
};

export default [
  {files: ['**/*.mjs'], languageOptions: {sourceType: 'module', ecmaVersion: 2024, globals: node}, rules},
  {files: ['**/*.cjs'], languageOptions: {sourceType: 'commonjs', ecmaVersion: 2024, globals: {...node, require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly'}}, rules},
  // layout-qa.js, its parts (layout-qa-*.js) and timeline.js run in the page.
  {files: ['layout-qa*.js', 'timeline.js'], languageOptions: {sourceType: 'script', ecmaVersion: 2024, globals: browser}, rules},
];
