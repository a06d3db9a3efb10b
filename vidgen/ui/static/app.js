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
      const item = el('li', {}, `${r.current ? '▶ ' : ''}v${r.number} ${r.kind || ''} ${r.prompt ? '“' + r.prompt + '”' : ''} `);
      if (r.video) item.append(el('a', {href: `${base}file/${v.name}/mp4/${r.number}`, target: '_blank'}, 'MP4'));
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
  return null;
}

function errorItem(prefix, error) {
  const where = [error.file, error.line].filter((x) => x !== null && x !== undefined).join(':');
  const item = el('li', {className: 'error'}, `${prefix}[${error.stage || '?'}] ${where ? where + ' ' : ''}${error.message}`);
  if (error.excerpt) item.append(el('pre', {}, error.excerpt));
  return item;
}

function showEvent(event) {
  const {kind, data} = event;
  const log = $('log');
  if (kind === 'attempt' && data.error) log.append(errorItem(`turn ${data.attempt} failed: `, data.error));
  else if (kind === 'end') {
    const turns = data.attempts ? ` in ${data.attempts.length} turn(s)` : '';
    const summary = data.ok ? `done: ${data.name} ${data.status}${turns}` : `${data.status}${turns}: ${data.message || ''}`;
    log.append(el('li', {className: data.ok ? '' : 'error'}, summary));
    if (data.error) log.append(errorItem('', data.error));
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
