// A webpack loader that stamps a video's JSX with where each element is written: every HTML or
// SVG element, and the Remotion components that pass the prop on (AbsoluteFill and Img to their
// DOM element; Sequence, Series and TransitionSeries and their scenes to the Sequence fiber the
// timeline check reads), get data-vg-src="<video>/<file>:<line>". React 19 keeps no
// _debugSource, and searching the code for an element's text finds the wrong line as soon as a
// text repeats or a component is used twice.
//
// The attribute is inserted after the element's last attribute, inside the line of its tag:
// lines never move, so the bundle's source maps (line-only in production) stay right. A file
// that does not parse is passed on untouched, so esbuild reports its syntax error where it is.
const fs = require('node:fs');
const path = require('node:path');
const {createRequire} = require('node:module');

const ATTRIBUTE = 'data-vg-src';

// The DOM's own tags. A lowercase tag outside this list (mesh, boxGeometry) is a three.js object
// of @react-three/fiber, which would take the attribute as a property to set on the object.
const HTML =
  'a abbr address area article aside audio b bdi bdo blockquote body br button canvas caption cite code col colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr i iframe img input ins kbd label legend li main map mark menu meter nav object ol optgroup option output p picture pre progress q rp rt ruby s samp section select slot small source span strong sub summary sup table tbody td textarea tfoot th thead time tr track u ul var video wbr';
const SVG =
  'svg g defs symbol use image switch foreignObject circle ellipse line path polygon polyline rect text textPath tspan linearGradient radialGradient stop pattern clipPath mask marker filter feBlend feColorMatrix feComponentTransfer feComposite feConvolveMatrix feDiffuseLighting feDisplacementMap feDropShadow feFlood feFuncA feFuncB feFuncG feFuncR feGaussianBlur feImage feMerge feMergeNode feMorphology feOffset feSpecularLighting feTile feTurbulence feDistantLight fePointLight feSpotLight animate animateMotion animateTransform set mpath view';
const DOM_TAGS = new Set(`${HTML} ${SVG}`.split(/\s+/));
// DOM tags that are also three.js classes: left alone in a file that draws with three.js.
const THREE_TOO = new Set(['audio', 'line', 'path', 'source']);
const THREE_MODULES = new Set(['three', '@react-three/fiber', '@remotion/three']);

// Components (by module and export) that take the attribute without complaint and pass it on.
const COMPONENTS = {
  remotion: new Set(['AbsoluteFill', 'Img', 'Sequence', 'Series']),
  '@remotion/transitions': new Set(['TransitionSeries']),
};
const SCENES = new Set(['Series', 'TransitionSeries']); // whose .Sequence is stamped too

const typescripts = new Map();
const typescriptIn = (root) => {
  if (!typescripts.has(root)) typescripts.set(root, createRequire(path.join(root, 'package.json'))('typescript'));
  return typescripts.get(root);
};

// What the file imports from the modules above: local name -> export, and namespaces.
const importsOf = (ts, file) => {
  const named = new Map();
  const namespaces = new Map(); // local namespace name -> module
  let three = false;
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const module = statement.moduleSpecifier.text;
    if (THREE_MODULES.has(module)) three = true;
    const clause = statement.importClause;
    if (!COMPONENTS[module] || !clause?.namedBindings) continue;
    if (ts.isNamespaceImport(clause.namedBindings)) {
      namespaces.set(clause.namedBindings.name.text, module);
      continue;
    }
    for (const element of clause.namedBindings.elements) {
      const exported = (element.propertyName ?? element.name).text;
      if (COMPONENTS[module].has(exported)) named.set(element.name.text, exported);
    }
  }
  return {named, namespaces, three};
};

// The Remotion component a tag names (`Sequence`, `R.Series`, `Series.Sequence`), or null.
const componentOf = (ts, tag, imports) => {
  if (ts.isIdentifier(tag)) return imports.named.get(tag.text) ?? null;
  if (!ts.isPropertyAccessExpression(tag)) return null;
  const inner = tag.expression;
  const name = tag.name.text;
  if (ts.isIdentifier(inner) && imports.namespaces.has(inner.text)) {
    return COMPONENTS[imports.namespaces.get(inner.text)].has(name) ? name : null;
  }
  const owner = componentOf(ts, inner, imports);
  return owner && SCENES.has(owner) && name === 'Sequence' ? `${owner}.Sequence` : null;
};

// Does the tag get the attribute? `three`: the file draws with three.js.
const stamped = (ts, tag, imports, three) => {
  if (ts.isIdentifier(tag) && /^[a-z]/.test(tag.text)) {
    return DOM_TAGS.has(tag.text) && !(three && THREE_TOO.has(tag.text));
  }
  return componentOf(ts, tag, imports) !== null;
};

// The source with every wanted element stamped; `where` is "<video>/<file>" for the attribute.
const stamp = (ts, source, fileName, where) => {
  const kind = /\.[jt]sx$/i.test(fileName) ? (/\.tsx$/i.test(fileName) ? ts.ScriptKind.TSX : ts.ScriptKind.JSX) : null;
  if (kind === null || !source.includes('<')) return source;
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, kind);
  if (file.parseDiagnostics?.length) return source;
  const imports = importsOf(ts, file);
  const inserts = [];
  const tagsSeen = [];
  const visit = (node) => {
    if (ts.isJsxOpeningElement(node) || ts.isJsxSelfClosingElement(node)) tagsSeen.push(node);
    ts.forEachChild(node, visit);
  };
  visit(file);
  // A file with a lowercase tag that is no DOM element renders into a three.js scene.
  const three =
    imports.three || tagsSeen.some((node) => ts.isIdentifier(node.tagName) && /^[a-z]/.test(node.tagName.text) && !DOM_TAGS.has(node.tagName.text));
  for (const node of tagsSeen) {
    if (!stamped(ts, node.tagName, imports, three)) continue;
    // The video's own attribute of that name is kept (it wins in the DOM anyway).
    if (node.attributes.properties.some((p) => ts.isJsxAttribute(p) && p.name.getText(file) === ATTRIBUTE)) continue;
    const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
    inserts.push([node.attributes.end, ` ${ATTRIBUTE}={${JSON.stringify(`${where}:${line}`)}}`]);
  }
  // From the end, so that every offset still points where the parser found it.
  let out = source;
  for (const [at, text] of inserts.sort((a, b) => b[0] - a[0])) out = out.slice(0, at) + text + out.slice(at);
  return out;
};

// The loader: only files of a video (src/videos/<name>/...) are stamped.
/** @this {{getOptions(): {root: string}, resourcePath: string}} webpack's loader context, the part used */
function sourceLocations(source) {
  const {root} = this.getOptions();
  const where = path.relative(path.join(root, 'src', 'videos'), this.resourcePath).split(path.sep).join('/');
  if (where.startsWith('..') || path.isAbsolute(where) || !where.includes('/')) return source;
  return stamp(typescriptIn(root), source, this.resourcePath, where);
}

// Added to a webpack configuration: it runs before Remotion's esbuild loader ('pre'). By the
// workspace's real path, as webpack's resolver names the files (a workspace reached by a link).
const withSourceLocations = (config, {root}) => {
  const real = fs.realpathSync(root);
  return {
    ...config,
    module: {
      ...config.module,
      rules: [
        ...(config.module?.rules ?? []),
        {test: /\.[jt]sx$/, include: path.join(real, 'src', 'videos'), enforce: 'pre', use: [{loader: __filename, options: {root: real}}]},
      ],
    },
  };
};

module.exports = sourceLocations;
module.exports.stamp = stamp;
module.exports.withSourceLocations = withSourceLocations;
module.exports.ATTRIBUTE = ATTRIBUTE;
