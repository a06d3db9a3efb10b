// The player of `vidgen ui`: every video of src/videos/ in Remotion's <Player>, bundled by the bundler's
// own webpack config with the file jail, and watched, so the page follows the files. Run with the
// workspace as cwd and the output folder as its argument; one JSON line on stdout per build:
// {"event": "built", "build": n, "errors": [{file, message}]}. Stdin closing ends it.
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {jailed} from './jail.mjs';
import {webpackConfig} from './remotion-adapter.mjs';

const root = process.cwd();
const out = path.resolve(process.argv[2] || path.join(root, '.vidgen', 'ui'));
const require = createRequire(path.join(root, 'package.json'));
const {webpack} = require('@remotion/bundler');

const writeLine = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, encoding, callback) => process.stderr.write(chunk, encoding, callback);
const send = (message) => writeLine(JSON.stringify(message) + '\n');

// The page's script: the video named in ?video= in a <Player>, its findings drawn at their frame,
// seeking and findings from the parent page by postMessage, the frame posted back as it changes.
const ENTRY = `
import React, {useEffect, useRef, useState} from 'react';
import {createRoot} from 'react-dom/client';
import {Player} from '@remotion/player';

const videos = require.context('../../src/videos', true, /^\\.\\/[a-z0-9][a-z0-9-]*\\/index\\.tsx$/, 'lazy');

const Overlay = ({findings, frame, width, height}) => (
  <svg viewBox={\`0 0 \${width} \${height}\`} style={{position: 'absolute', inset: 0, width: '100%', height: '100%', pointerEvents: 'none'}}>
    {findings
      .filter((f) => f.box && f.frame !== null && frame >= f.frame && frame <= (f.last_frame ?? f.frame))
      .map((f, i) => (
        <g key={i} data-finding={f.kind}>
          <rect x={f.box[0]} y={f.box[1]} width={f.box[2]} height={f.box[3]} fill="none" stroke="#ff3b30" strokeWidth={Math.max(2, width / 320)} />
          <text x={f.box[0]} y={f.box[1] > width / 40 ? f.box[1] - 6 : f.box[1] + f.box[3] + width / 40} fill="#ff3b30" fontSize={Math.max(14, width / 50)} fontFamily="sans-serif">
            {f.message.length > 60 ? f.message.slice(0, 59) + '…' : f.message}
          </text>
        </g>
      ))}
  </svg>
);

const App = ({name}) => {
  const [loaded, setLoaded] = useState(null);
  const [frame, setFrame] = useState(0);
  const [findings, setFindings] = useState([]);
  const player = useRef(null);
  useEffect(() => {
    videos('./' + name + '/index.tsx').then((m) => setLoaded({component: m.default, config: m.config}), (e) => setLoaded({error: String(e && e.message || e)}));
  }, [name]);
  useEffect(() => {
    const onMessage = (event) => {
      const data = event.data || {};
      if (typeof data.seek === 'number' && player.current) player.current.seekTo(data.seek);
      if (Array.isArray(data.findings)) setFindings(data.findings);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, []);
  useEffect(() => {
    const current = player.current;
    if (!current) return undefined;
    const onFrame = (e) => {
      setFrame(e.detail.frame);
      window.parent.postMessage({frame: e.detail.frame}, '*');
    };
    current.addEventListener('frameupdate', onFrame);
    current.addEventListener('seeked', onFrame);
    window.parent.postMessage({ready: loaded.config}, '*');
    return () => {
      current.removeEventListener('frameupdate', onFrame);
      current.removeEventListener('seeked', onFrame);
    };
  }, [loaded]);
  if (!loaded) return <p>loading {name}…</p>;
  if (loaded.error || !loaded.config) return <p id="player-error">{name} does not load: {loaded.error || 'no config'}</p>;
  const {config, component} = loaded;
  return (
    <div style={{position: 'relative', width: '100%', aspectRatio: config.width + ' / ' + config.height}}>
      <Player ref={player} component={component} durationInFrames={config.durationInFrames} fps={config.fps}
        compositionWidth={config.width} compositionHeight={config.height} controls loop
        style={{width: '100%', height: '100%'}} />
      <Overlay findings={findings} frame={frame} width={config.width} height={config.height} />
    </div>
  );
};

createRoot(document.getElementById('player')).render(<App name={new URLSearchParams(location.search).get('video') || ''} />);
`;

const HTML = `<!doctype html>
<html><head><meta charset="utf-8"><style>html,body{margin:0;background:#111;color:#eee;font-family:sans-serif}</style>
<script>window.remotion_staticBase = './public';</script></head>
<body><div id="player"></div><script src="./bundle.js"></script></body></html>
`;

const main = async () => {
  fs.mkdirSync(out, {recursive: true});
  // The entry sits in .vidgen/ui/ of the workspace, so its require.context reaches src/videos/.
  const entry = path.join(root, '.vidgen', 'ui', 'entry.jsx');
  fs.mkdirSync(path.dirname(entry), {recursive: true});
  fs.writeFileSync(entry, ENTRY);
  const [, made] = await webpackConfig({
    entryPoint: entry,
    outDir: out,
    resolvedRemotionRoot: root,
    onProgress: () => undefined,
    options: {
      enableCaching: false,
      webpackOverride: (conf) => jailed({...conf, optimization: {...conf.optimization, emitOnErrors: true}}, {root}),
    },
  });
  // Typed by Remotion as webpack's or rspack's: the bundler's webpack runs it.
  const config = /** @type {any} */ (made);
  // Only the player's entry: not Remotion's own page (its studio and render entries).
  const compiler = webpack({...config, entry: [entry], output: {...config.output, path: out, publicPath: './'}});
  let build = 0;
  // One build's errors: the file each is in and its first line (a jail refusal is its own message).
  const errorsOf = (stats) =>
    stats.compilation.errors.map((/** @type {any} */ e) => ({
      file: e.module?.resource ? path.relative(root, e.module.resource) : null,
      message: String(e.error?.jailMessage || e.message || e).split('\n')[0],
    }));
  const watching = compiler.watch({aggregateTimeout: 200}, (err, stats) => {
    fs.writeFileSync(path.join(out, 'index.html'), HTML);
    const errors = err || !stats ? [{file: null, message: String(err?.message || err)}] : errorsOf(stats);
    send({event: 'built', build: ++build, errors});
  });
  process.stdin.on('end', () => (watching ? watching.close(() => process.exit(0)) : process.exit(0)));
  process.stdin.resume();
};

main().catch((err) => {
  send({event: 'failed', message: String(err && err.message || err).split('\n')[0]});
  process.exit(1);
});
