// The page of `vidgen ui`. Every URL is relative to /<token>/, which the server requires on every request.
'use strict';
const base = location.pathname.replace(/[^/]*$/, '');
const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const getJson = (path) => fetch(base + path, {cache: 'no-store'}).then((r) => r.json());
const post = (path, body) =>
  fetch(base + path, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body || {})}).then((r) => r.json());

let videos = [];
let selected = new URLSearchParams(location.search).get('video');
let build = {build: 0, player: null};
let frame = 0;
let running = null;

const current = () => videos.find((v) => v.name === selected);

async function refreshVideos() {
  videos = (await getJson('api/videos')).videos;
  if (!current() && videos.length) selected = videos[0].name;
  const list = $('videos');
  list.replaceChildren(
    ...videos.map((v) => {
      const poster = v.poster ? el('img', {src: `${base}file/${v.name}/poster?at=${v.poster}`, alt: ''}) : el('span');
      const item = el('li', {className: v.name === selected ? 'selected' : '', title: v.detail}, poster, el('b', {}, v.name), ' ',
        el('span', {className: `status ${v.status.replace(' ', '-')}`}, v.status), v.version ? ` v${v.version}` : '');
      item.dataset.video = v.name;
      item.onclick = () => select(v.name);
      return item;
    }),
  );
  showVideo();
}

function select(name) {
  if (name === selected) return;
  selected = name;
  refreshVideos();
  loadPlayer();
}

function loadPlayer() {
  if (!selected || !build.player) return;
  $('player').src = `${build.player}?video=${encodeURIComponent(selected)}&build=${build.build}`;
  $('title').textContent = selected;
}

function showVideo() {
  const v = current();
  if (!v) return;
  $('title').textContent = v.name;
  $('findings').replaceChildren(
    ...(v.findings.length ? v.findings : [{message: 'none', frame: null}]).map((f) => {
      const where = f.file ? ` (${f.file}${f.line ? ':' + f.line : ''})` : '';
      const item = el('li', {}, f.frame !== null ? `frame ${f.frame}: ` : '', f.message, where);
      if (f.frame !== null) item.onclick = () => seek(f.frame);
      return item;
    }),
  );
  $('versions').replaceChildren(
    ...v.versions.map((r) => {
      const poster = r.poster ? el('img', {src: `${base}file/${v.name}/poster/${r.number}?at=${r.poster}`, alt: `v${r.number}`}) : '';
      const item = el('li', {}, poster, `${r.current ? '▶ ' : ''}v${r.number} ${r.kind || ''} ${r.prompt ? '“' + r.prompt + '”' : ''} `);
      item.dataset.version = r.number;
      if (r.video) item.append(el('a', {href: `${base}file/${v.name}/mp4/${r.number}`, target: '_blank'}, 'MP4'), ' ');
      item.append(el('button', {className: 'diff', onclick: () => showDiff(v.name, r.number)}, 'diff'));
      if (!r.video) item.append(' ', el('button', {className: 'render', onclick: () => renderVersion(v.name, r.number)}, 'render'));
      return item;
    }),
  );
  sendFindings();
}

const toPlayer = (message) => $('player').contentWindow && $('player').contentWindow.postMessage(message, '*');
const seek = (f) => toPlayer({seek: f});
const sendFindings = () => toPlayer({findings: current() ? current().findings : []});

window.addEventListener('message', (event) => {
  if (event.source !== $('player').contentWindow) return;
  const data = event.data || {};
  if (typeof data.frame === 'number') {
    frame = data.frame;
    $('frame').textContent = `frame ${frame}`;
  }
  if (data.ready) sendFindings();
});

async function pollBuild() {
  const next = await getJson('api/build');
  $('build-errors').replaceChildren(
    ...(next.failed ? [el('p', {}, `the player's bundler stopped: ${next.failed}`)] : []),
    ...next.errors.map((e) => el('p', {}, `${e.file || 'bundle'}: ${e.message}`)),
  );
  if (next.build !== build.build) {
    build = next;
    await refreshVideos();
    loadPlayer();
  }
}

// ------------------------------------------------------------------ history: a version's diff, rendering a version

async function showDiff(name, number) {
  const answer = await getJson(`api/diff?video=${encodeURIComponent(name)}&version=${number}`);
  const text = answer.error || answer.diff || `v${number} changed nothing`;
  // One element per line, its text set as text: the diff (JSX, full of <tags>) is never read as markup.
  const lines = text.split('\n').map((line) => {
    const kind = line.startsWith('+++') || line.startsWith('---') ? 'file' : {'+': 'add', '-': 'del', '@': 'hunk'}[line[0]] || '';
    return el('span', {className: kind}, line + '\n');
  });
  $('diff').replaceChildren(
    el('h3', {}, `Diff of ${name} v${number} `, el('button', {onclick: () => $('diff').replaceChildren()}, 'close')),
    el('pre', {}, ...lines),
  );
}

async function renderVersion(name, number) {
  const answer = await post('api/render', {video: name, version: number});
  if (answer.error) {
    $('log').append(el('li', {className: 'error'}, answer.error));
    return;
  }
  $('log').replaceChildren(el('li', {}, `render ${name} v${number}`));
  $('errors').replaceChildren();
  follow();
}

// ------------------------------------------------------------------ the chat

function describe(kind, data) {
  if (kind === 'stage') return `stage ${data.stage}`;
  if (kind === 'model') return `model: ${data.kind} (turn ${data.attempt})`;
  if (kind === 'named') return `named ${data.name}`;
  if (kind === 'warning') return `warning: ${data.message}`;
  if (kind === 'still') return `still frame ${data.frame}`;
  if (kind === 'progress' && data.stage === 'render') return `render: ${data.renderedFrames || 0}/${data.frames || '?'} frames`;
  if (kind === 'model-status' && data.status === 'retry') return `model: retrying in ${data.delay_s}s`;
  if (kind === 'attempt') return data.error ? null : `turn ${data.attempt} passed`;
  if (kind === 'restored') return `v${data.version} restored${data.video ? ', with its kept video' : ': rendering it'}`;
  return null;
}

const has = (x) => x !== null && x !== undefined;

function errorItem(prefix, error) {
  const where = [error.file, error.line].filter(has).join(':');
  const item = el('li', {className: 'error'}, `${prefix}[${error.stage || '?'}] ${where ? where + ' ' : ''}${error.message}`);
  if (error.excerpt) item.append(el('pre', {}, error.excerpt));
  return item;
}

// The errors panel: each failed turn's error with its fields apart, as the repair turn sent them to the model.
function showError(title, error) {
  const fields = [['stage', error.stage], ['file', error.file], ['line', error.line], ['column', error.column], ['frame', error.frame]];
  const item = el('li', {}, el('b', {}, title),
    el('dl', {}, ...fields.filter(([, value]) => has(value)).flatMap(([name, value]) => {
      const dd = el('dd', {}, String(value));
      dd.dataset.field = name;
      return [el('dt', {}, name), dd];
    })),
    el('p', {className: 'message'}, error.message));
  if (error.excerpt) item.append(el('pre', {}, error.excerpt));
  $('errors').append(item);
}

// The model's reply in short (replies.summary): the files it wrote, and its own words before them.
function replyItem(data) {
  const files = data.files.map((f) => {
    if (f.change === 'new') return `${f.path} new (${f.lines} lines)`;
    if (f.change === 'changed') return `${f.path} changed (+${f.added} −${f.removed}, ${f.lines} lines)`;
    return `${f.path} unchanged`;
  });
  const line = files.length ? `reply: ${files.join(', ')}` : `reply without files: ${data.problem || ''}`;
  const item = el('li', {className: 'reply'}, line + (data.truncated ? ' (cut off at the token limit)' : ''));
  if (data.note) item.append(el('q', {}, data.note));
  return item;
}

function showEvent(event) {
  const {kind, data} = event;
  const log = $('log');
  if (kind === 'attempt' && data.error) {
    log.append(errorItem(`turn ${data.attempt} failed: `, data.error));
    showError(`turn ${data.attempt}`, data.error);
  } else if (kind === 'reply') log.append(replyItem(data));
  else if (kind === 'end') {
    const turns = data.attempts ? ` in ${data.attempts.length} turn(s)` : '';
    const summary = data.ok ? `done: ${data.name} ${data.status}${turns}` : `${data.status}${turns}: ${data.message || ''}`;
    log.append(el('li', {className: data.ok ? '' : 'error'}, summary));
    if (data.error) log.append(errorItem('', data.error));
    if (data.error && !data.attempts) showError('render', data.error);  // a loop's errors came with its turns
  } else {
    const line = describe(kind, data);
    if (!line) return;
    const last = log.lastElementChild;
    if ((kind === 'progress' || kind === 'still') && last && last.dataset.kind === kind) last.textContent = line;
    else {
      const item = el('li', {}, line);
      item.dataset.kind = kind;
      log.append(item);
    }
  }
}

function follow() {
  const source = new EventSource(base + 'api/events?after=0');
  $('cancel').disabled = false;
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    showEvent(event);
    if (event.kind === 'end') {
      source.close();
      running = null;
      $('cancel').disabled = true;
      if (event.data.name) selected = event.data.name;
      refreshVideos();
    }
  };
  source.onerror = () => source.close();
  running = source;
}

async function start(kind) {
  const prompt = $('prompt').value;
  const answer = await post('api/run', {video: kind === 'edit' ? selected : '', prompt, kind});
  if (answer.error) {
    $('log').append(el('li', {className: 'error'}, answer.error));
    return;
  }
  $('log').replaceChildren(el('li', {}, `${kind}: ${prompt}`));
  $('errors').replaceChildren();
  $('prompt').value = '';
  follow();
}

async function move(which) {
  const answer = await post(`api/${which}`, {video: selected});
  if (answer.error) $('log').append(el('li', {className: 'error'}, answer.error));
  await refreshVideos();
}

$('edit').onclick = () => start('edit');
$('new').onclick = () => start('new');
$('cancel').onclick = () => post('api/cancel');
$('undo').onclick = () => move('undo');
$('redo').onclick = () => move('redo');
$('player').addEventListener('load', sendFindings);

pollBuild();
setInterval(pollBuild, 1000);
setInterval(() => running || refreshVideos(), 5000);
