// The file jail of the bundle: every module webpack resolves on behalf of a file in
// src/videos/<name>/ must be inside that folder or inside an allowed package's own directory.
//
// The model's code is untrusted: without this, `import x from 'world-atlas/../../../../etc/passwd'`
// makes webpack read a host file and quote its lines in the bundle error (sent to the model), and
// a JSON reached that way is drawn into the video. Each request is checked three times, each time
// before webpack reads the file: its raw text (resolver `resolve` hook and the factories'
// beforeResolve: no stat of the target), the path the resolver found (resolver `result` hook:
// aliases, `browser` fields, symlinks), and the module webpack is about to build (afterResolve:
// paths that bypass the resolver, such as `file:` URLs, and inline loaders).
//
// A request with a scheme is never resolved as a file, so no path check sees it: `data:` modules
// carry code whose own imports webpack resolves with the data: URL as their issuer (no video's),
// `file:` URLs are read without the resolver. A video may name only one: an inline image in its
// CSS (`url(data:image/...)`, which css-loader turns into a module request), and a module whose
// issuer has a scheme may import nothing at all.
import fs from 'node:fs';
import path from 'node:path';

const NAME = 'VidgenJail';
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const INLINE_IMAGE = /^data:image\/[a-z0-9.+-]+[;,]/i;

// The request without webpack's inline loader prefixes (`!!css-loader!x` is x).
const bare = (request) => request.replace(/^-?!+/, '').split('!').pop();

// What a refusal quotes of a request: of a data: URL only its media type, since its content may
// be long or name a host file.
const shown = (request) => {
  const raw = bare(request);
  if (!/^data:/i.test(raw)) return request;
  const type = raw.slice(0, raw.search(/,|$/)).slice(0, 40);
  return `${type},…`;
};

// Why a request with a scheme is refused (null when it has none, or is an image in CSS).
const schemeProblem = (issuer, resource) => {
  const scheme = SCHEME.exec(resource);
  if (!scheme) return null;
  const name = scheme[0].toLowerCase();
  if (name === 'data:') {
    const css = typeof issuer === 'string' && /\.css$/i.test(issuer.replace(/[?#].*$/, ''));
    if (css && INLINE_IMAGE.test(resource)) return null;
    return 'is a data: URL, whose content no check sees (only CSS may inline an image, as url(data:image/...))';
  }
  if (name === 'node:') return 'is a Node module: videos run in a browser';
  return `is a ${name} URL: nothing is fetched or read from outside the bundle`;
};

const realpath = (file) => {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
};

const inside = (folder, file) => {
  const relative = path.relative(folder, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
};

// The folder of the package a file belongs to: the path up to its last node_modules/<name>.
const packageRoot = (file) => {
  const parts = file.split(path.sep);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0 || at + 1 >= parts.length) return null;
  return parts.slice(0, at + (parts[at + 1].startsWith('@') ? 3 : 2)).join(path.sep);
};

// Every loader the configuration names (style-loader, css-loader, Remotion's esbuild loader).
const configuredLoaders = (rules, found = new Set()) => {
  for (const rule of rules || []) {
    if (!rule || typeof rule !== 'object') continue;
    for (const use of [rule.loader, ...[].concat(rule.use || [])]) {
      const loader = typeof use === 'string' ? use : use && use.loader;
      if (typeof loader === 'string') found.add(realpath(loader));
    }
    configuredLoaders(rule.rules, found);
    configuredLoaders(rule.oneOf, found);
  }
  return found;
};

// A refusal: webpack reports it as "Module not found" on the importing file and line; the
// service shows `jailMessage` alone, so nothing the resolver tried is quoted.
const refusal = (request, folder, why) => {
  const where = folder ? `src/videos/${path.basename(folder)}/` : 'its video folder';
  const message =
    `imports '${shown(request)}', which ${why}: a video may import only files inside ${where} ` +
    '(with ./) and the template\'s packages';
  return Object.assign(new Error(message), {jailMessage: message, jailRequest: request});
};

// A module whose issuer has a scheme (a data: module that got in) may import nothing: its
// requests would be judged by no video's folder.
const schemeIssuer = (issuer) => typeof issuer === 'string' && SCHEME.test(issuer) && !path.isAbsolute(issuer);
const fromScheme = (request) => refusal(request, null, 'is imported by a module inlined as a URL, whose imports no check sees');

// Where a refused request is written in the importing file (a file of the video itself): webpack's
// location is in the code after esbuild, which may be a line off.
export const locateRequest = (file, request) => {
  const plain = [request, bare(request)];
  // Quoted first, so that './data' is found in the import, not in a line that merely mentions it.
  const spans = [...plain.flatMap((span) => ["'", '"', '`'].map((quote) => quote + span)), ...plain];
  let lines;
  try {
    lines = fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    return {};
  }
  for (const span of spans) {
    const index = lines.findIndex((text) => text.includes(span));
    if (index >= 0) return {line: index + 1, column: lines[index].indexOf(span) + 1};
  }
  return {};
};

export class VideoJail {
  constructor({root, packages, config}) {
    this.videos = path.join(realpath(root), 'src', 'videos');
    const modules = path.join(realpath(root), 'node_modules');
    this.loaders = configuredLoaders(config.module && config.module.rules);
    // The packages a video may import, and the folders of the configured loaders, whose runtime
    // helpers the CSS pipeline imports on behalf of a video's .css file.
    this.allowed = [
      ...packages.map((name) => realpath(path.join(modules, name))),
      ...[...this.loaders].map(packageRoot).filter(Boolean),
    ];
  }

  // The video folder whose rules apply: the importing file's, or (for requests webpack makes on
  // behalf of a directory, like require.context's entries) the directory's.
  owner(issuer, context) {
    const from = issuer || context;
    if (!from || !path.isAbsolute(from)) return null;
    const relative = path.relative(this.videos, realpath(from));
    if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) return null;
    const name = relative.split(path.sep)[0];
    if (issuer && name === relative) return null; // a file directly in src/videos/ belongs to no video
    return path.join(this.videos, name);
  }

  permitted(folder, file) {
    const real = realpath(file);
    return inside(folder, real) || this.allowed.some((dir) => inside(dir, real));
  }

  // Why a raw request escapes, judged from its text alone (nothing is read); null when it may
  // go on to be resolved.
  rawProblem(folder, context, request, issuer = null) {
    const raw = bare(request);
    if (raw.startsWith('#')) return 'is not a package name';
    // Judged on the whole request: a data: URL's content may hold '?' or '#'.
    const scheme = schemeProblem(issuer, raw);
    if (scheme) return scheme;
    if (SCHEME.test(raw)) return null; // an inline image of the video's CSS
    const resource = raw.replace(/[?#].*$/, '');
    if (!resource) return null;
    if (path.isAbsolute(resource)) return 'is an absolute path';
    if (resource === '.' || resource === '..' || resource.startsWith('./') || resource.startsWith('../')) {
      const target = path.resolve(context, resource);
      return inside(folder, target) || this.allowed.some((dir) => inside(dir, target)) ? null : 'is outside the video folder';
    }
    const parts = resource.split('/');
    const name = parts.slice(0, resource.startsWith('@') ? 2 : 1).join('/');
    const normalized = path.posix.normalize(resource);
    if (resource.includes('\\') || (normalized !== name && !normalized.startsWith(`${name}/`))) {
      return `climbs out of the package '${name}'`;
    }
    return null;
  }

  // The resolver plugin (resolve.plugins): the raw request first (before the resolver's cache,
  // so that no answer skips it), then the path found, which aliases, `browser` fields and
  // symlinks may have moved.
  resolvePlugin() {
    return {
      apply: (resolver) => {
        resolver.getHook('resolve').tapAsync({name: NAME, stage: -100}, (request, _context, callback) => {
          const issuer = request.context && request.context.issuer;
          if (schemeIssuer(issuer) && typeof request.request === 'string') return callback(fromScheme(request.request));
          const folder = this.owner(issuer, request.path);
          if (!folder || typeof request.request !== 'string') return callback();
          const why = this.rawProblem(folder, request.path, request.request, issuer);
          if (why) return callback(refusal(request.request, folder, why));
          // Carried along to the result (every step of the resolver copies the request).
          request.vidgenJail = {folder, request: request.request};
          callback();
        });
        resolver.getHook('result').tapAsync(NAME, (request, _context, callback) => {
          const jail = request.vidgenJail;
          const escaped = jail && request.path && !this.permitted(jail.folder, request.path);
          callback(escaped ? refusal(jail.request, jail.folder, 'resolves outside the video folder') : undefined);
        });
      },
    };
  }

  apply(compiler) {
    compiler.hooks.normalModuleFactory.tap(NAME, (factory) => {
      factory.hooks.beforeResolve.tap(NAME, (data) => {
        const issuer = data.contextInfo && data.contextInfo.issuer;
        if (schemeIssuer(issuer)) throw fromScheme(data.request);
        const folder = this.owner(issuer, data.context);
        const why = folder && this.rawProblem(folder, data.context, data.request, issuer);
        if (why) throw refusal(data.request, folder, why);
      });
      factory.hooks.afterResolve.tap(NAME, (data) => {
        const issuer = data.contextInfo && data.contextInfo.issuer;
        if (schemeIssuer(issuer)) throw fromScheme(data.request);
        const folder = this.owner(issuer, data.context);
        if (!folder) return;
        const {resource, loaders} = data.createData;
        const raw = typeof resource === 'string' ? resource : '';
        const file = raw.replace(/[?#].*$/, '');
        const scheme = schemeProblem(issuer, raw);
        if (scheme) throw refusal(data.request, folder, scheme);
        if (!SCHEME.test(raw) && (!path.isAbsolute(file) || !this.permitted(folder, file))) {
          throw refusal(data.request, folder, 'resolves outside the video folder');
        }
        // A loader is code that runs in the service: only the configured ones may.
        if ((loaders || []).some((loader) => !this.loaders.has(realpath(loader.loader)))) {
          throw refusal(data.request, folder, 'names a loader the template does not configure');
        }
      });
    });
    compiler.hooks.contextModuleFactory.tap(NAME, (factory) => {
      // require.context(), import.meta.webpackContext() and import() with a computed path: the
      // directory must be in the jail before webpack lists it.
      factory.hooks.beforeResolve.tap(NAME, (data) => {
        const folder = this.owner(null, data.context);
        if (!folder) return;
        const why = data.request.includes('!') ? 'names a loader' : this.rawProblem(folder, data.context, data.request);
        if (why) throw refusal(data.request, folder, why);
      });
      factory.hooks.afterResolve.tap(NAME, (data) => {
        const folder = this.owner(null, data.context);
        const folders = [].concat(data.resource || []);
        if (folder && (!folders.length || folders.some((dir) => !this.permitted(folder, dir)))) {
          throw refusal(data.request, folder, 'resolves outside the video folder');
        }
      });
    });
  }
}

// A webpackOverride step: the jail's plugins added to a Remotion webpack configuration.
export const jailed = (config, {root}) => {
  const packages = Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies || {});
  const jail = new VideoJail({root, packages, config});
  return {
    ...config,
    // The resolver's cache must tell issuers apart: a path resolved for a package is not
    // thereby allowed to a video.
    resolve: {...config.resolve, cacheWithContext: true, plugins: [...((config.resolve && config.resolve.plugins) || []), jail.resolvePlugin()]},
    plugins: [...(config.plugins || []), jail],
  };
};
