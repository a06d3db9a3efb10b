// The checks half of the render service, in a child process it forks: ESLint and TypeScript,
// each loaded once and kept warm, answering {id, op, args} with {id, result | error} over IPC.
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';

const root = process.argv[2];
const trace = process.env.VIDGEN_TRACE === '1' ? (what) => console.error(`[trace ${Date.now()}] checker: ${what}`) : () => undefined;
trace('started');
const require = createRequire(path.join(root, 'package.json'));

// A loaded ESLint keeps the configuration it read first, and TypeScript its compiler options: a
// warm checker (a daemon lives for minutes) reloads them when their file changed on disk.
const stamp = (file) => {
  try {
    const {mtimeMs, size, ino} = fs.statSync(path.join(root, file));
    return `${mtimeMs} ${size} ${ino}`;
  } catch {
    return 'missing';
  }
};

let eslintLoad = null; // {stamp, instance: Promise<ESLint>}
const loadEslint = () => {
  const current = stamp('eslint.config.mjs');
  if (eslintLoad?.stamp !== current) {
    const load = async () => {
      const {ESLint} = require('eslint');
      const eslint = new ESLint({cwd: root, cache: false});
      await eslint.calculateConfigForFile(path.join(root, 'src', 'index.ts')); // imports the config and its plugins
      trace('eslint loaded');
      return eslint;
    };
    eslintLoad = {stamp: current, instance: load()};
  }
  return eslintLoad.instance;
};

const lint = async ({files}) => {
  const eslint = await loadEslint();
  const results = await eslint.lintFiles(files);
  trace(`linted ${files.length} files`);
  const diagnostics = [];
  for (const result of results) {
    for (const message of result.messages) {
      if (message.severity < 2) continue;
      // A disable comment for a plugin the template does not load (jsx-a11y, import, ...) disables nothing: not an error.
      if (/^Definition for rule '[^']+' was not found/.test(message.message)) continue;
      diagnostics.push({
        file: result.filePath,
        line: message.line ?? null,
        column: message.column ?? null,
        message: message.message,
        rule: message.ruleId,
      });
    }
  }
  return {diagnostics};
};

// The TypeScript program is rebuilt per request from a host that keeps every parsed file
// until it changes on disk, so React's and Remotion's types are read once per process.
let typescript = null;
let tsconfigStamp = null;
const typecheckState = {options: null, sourceFiles: new Map(), previous: undefined, globals: []};
const typecheck = async ({files}) => {
  if (!typescript || stamp('tsconfig.json') !== tsconfigStamp) {
    tsconfigStamp = stamp('tsconfig.json');
    typescript = require('typescript');
    const parsed = typescript.getParsedCommandLineOfConfigFile(
      path.join(root, 'tsconfig.json'),
      {},
      {...typescript.sys, onUnRecoverableConfigFileDiagnostic: () => undefined},
    );
    typecheckState.options = parsed.options;
    typecheckState.sourceFiles.clear(); // parsed under the old options
    typecheckState.previous = undefined;
    typecheckState.globals = parsed.fileNames.filter((name) => name.endsWith('.d.ts'));
    trace('typescript loaded');
  }
  const ts = typescript;
  const host = ts.createCompilerHost(typecheckState.options);
  const readSource = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError) => {
    let mtime = 0;
    try {
      mtime = fs.statSync(fileName).mtimeMs;
    } catch {
      return undefined;
    }
    const cached = typecheckState.sourceFiles.get(fileName);
    if (cached && cached.mtime === mtime) return cached.source;
    const source = readSource(fileName, languageVersion, onError);
    typecheckState.sourceFiles.set(fileName, {mtime, source});
    return source;
  };
  const program = ts.createProgram([...files, ...typecheckState.globals], typecheckState.options, host, typecheckState.previous);
  typecheckState.previous = program;
  const wanted = new Set(files.map((file) => path.resolve(file)));
  const diagnostics = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) continue;
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const position = diagnostic.file && diagnostic.start !== undefined
        ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
        : null;
      diagnostics.push({
        file: diagnostic.file ? path.resolve(diagnostic.file.fileName) : null,
        line: position ? position.line + 1 : null,
        column: position ? position.character + 1 : null,
        message: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
      });
    }
  }
  trace(`typechecked ${files.length} files`);
  return {diagnostics: diagnostics.filter((d) => !d.file || wanted.has(d.file))};
};


const operations = {lint, typecheck};

// The render service forks this file with an IPC channel; without one there is nobody to answer.
const answer = (message) => {
  if (!process.send) throw new Error('checker.mjs runs as the render service\'s child process, with an IPC channel');
  process.send(message);
};

process.on('message', async (/** @type {{id: number, op: keyof typeof operations, args: any}} */ {id, op, args}) => {
  try {
    answer({id, result: await operations[op](args)});
  } catch (err) {
    answer({id, error: {message: String(err && err.message ? err.message : err), stack: String(err && err.stack)}});
  }
});
// The service going away closes the channel: nothing is left to check for.
process.on('disconnect', () => process.exit(0));
