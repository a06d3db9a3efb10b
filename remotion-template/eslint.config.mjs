// Lint rules for videos: Remotion's recommended rules, all as errors, plus what they miss.
// Rendering is frame by frame in a headless browser, so anything driven by wall-clock time,
// randomness or the network gives a video that flickers, differs between renders or fails.
import tseslint from 'typescript-eslint';
import remotion from '@remotion/eslint-plugin';

const remotionRules = Object.fromEntries(
  Object.keys(remotion.configs.recommended.rules).map((rule) => [rule, 'error']),
);

const frameDriven = 'drive animation with useCurrentFrame() and interpolate()/spring() instead';

export default [
  {ignores: ['node_modules/**', 'out/**', '.vidgen/**', 'service/**', '*.config.*']},
  {
    files: ['src/**/*.{ts,tsx}'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {ecmaFeatures: {jsx: true}, sourceType: 'module'},
    },
    plugins: {'@remotion': remotion},
    rules: {
      ...remotionRules,
      'no-restricted-properties': [
        'error',
        {object: 'Date', property: 'now', message: `Date.now() is wall-clock time: ${frameDriven}.`},
        {object: 'performance', property: 'now', message: `performance.now() is wall-clock time: ${frameDriven}.`},
        {object: 'window', property: 'setTimeout', message: `Timers do not follow the frame: ${frameDriven}.`},
        {object: 'window', property: 'setInterval', message: `Timers do not follow the frame: ${frameDriven}.`},
        {object: 'window', property: 'requestAnimationFrame', message: `requestAnimationFrame does not follow the frame: ${frameDriven}.`},
        {object: 'window', property: 'fetch', message: 'No network at render time: import data from a package or a file in the video folder.'},
      ],
      'no-restricted-globals': [
        'error',
        {name: 'setTimeout', message: `Timers do not follow the frame: ${frameDriven}.`},
        {name: 'setInterval', message: `Timers do not follow the frame: ${frameDriven}.`},
        {name: 'requestAnimationFrame', message: `requestAnimationFrame does not follow the frame: ${frameDriven}.`},
        {name: 'fetch', message: 'No network at render time: import data from a package or a file in the video folder.'},
        {name: 'XMLHttpRequest', message: 'No network at render time: import data from a package or a file in the video folder.'},
      ],
      'no-restricted-syntax': [
        'error',
        {selector: 'NewExpression[callee.name="Date"][arguments.length=0]', message: `new Date() is wall-clock time: ${frameDriven}.`},
        {selector: 'Property[key.name=/^(animation|animationName|transition)$/]', message: `CSS animations and transitions do not follow the frame: ${frameDriven}.`},
        {selector: 'Property[key.value=/^(animation|animation-name|transition)$/]', message: `CSS animations and transitions do not follow the frame: ${frameDriven}.`},
        {selector: 'Literal[value=/@keyframes|(^|[;{\\s])(animation|transition)\\s*:/]', message: `CSS animations and transitions do not follow the frame: ${frameDriven}.`},
        {selector: 'TemplateElement[value.raw=/@keyframes|(^|[;{\\s])(animation|transition)\\s*:/]', message: `CSS animations and transitions do not follow the frame: ${frameDriven}.`},
      ],
    },
  },
];
