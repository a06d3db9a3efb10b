// Lint rules for videos: Remotion's recommended rules, all as errors, plus what they miss.
// Rendering is frame by frame in a headless browser, so anything driven by wall-clock time,
// randomness or the network gives a video that flickers, differs between renders or fails.
import tseslint from 'typescript-eslint';
import remotion from '@remotion/eslint-plugin';
import react from 'eslint-plugin-react';
import reactHooks from 'eslint-plugin-react-hooks';

const remotionRules = Object.fromEntries(
  Object.keys(remotion.configs.recommended.rules).map((rule) => [rule, 'error']),
);

const frameDriven = 'drive animation with useCurrentFrame() and interpolate()/spring() instead';
const stateDriven = `State changed by an effect is not tied to the frame being rendered (frames render out of order, in several tabs): ${frameDriven}; compute the value from the frame`;

export default [
  {ignores: ['node_modules/**', 'out/**', '.vidgen/**', 'service/**', '*.config.*']},
  {
    files: ['src/**/*.{ts,tsx}'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {ecmaFeatures: {jsx: true}, sourceType: 'module'},
    },
    // The TypeScript and React plugins are loaded (mostly with no rules on) so that a model's habitual
    // `// eslint-disable-next-line @typescript-eslint/no-explicit-any` names a rule that exists.
    plugins: {'@remotion': remotion, '@typescript-eslint': tseslint.plugin, react, 'react-hooks': reactHooks},
    settings: {react: {version: '19.2'}},
    linterOptions: {reportUnusedDisableDirectives: 'off'},
    rules: {
      ...remotionRules,
      // A hook called conditionally otherwise surfaces only at render time, as "Minified React error #310".
      'react-hooks/rules-of-hooks': 'error',
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
        // A handle taken during a render React drops (it may, and runs state initializers again) is
        // never cleared: the render times out. Remotion's own docs take it in a layout effect.
        {selector: 'CallExpression:matches([callee.name="delayRender"], [callee.property.name="delayRender"]):not(CallExpression:matches([callee.name=/^(useEffect|useLayoutEffect)$/], [callee.property.name=/^(useEffect|useLayoutEffect)$/]) *)', message: 'delayRender() outside an effect runs during a render that React may drop, and its handle is then never cleared: call it in useLayoutEffect and continueRender() in its cleanup (see "Fonts" in the API sheet).'},
        // An effect that waits with delayRender/continueRender (loading a font or data) may set state.
        {selector: 'CallExpression[callee.name=/^(useEffect|useLayoutEffect)$/]:not(:has(Identifier[name=/^(continueRender|delayRender)$/])) CallExpression[callee.name=/^set[A-Z]/]', message: `${stateDriven}.`},
      ],
    },
  },
];
