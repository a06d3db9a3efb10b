// The render service's side of checker.mjs. ESLint and TypeScript run in a child process, so that on a
// machine with two cores they check the code while webpack bundles it in the service. A checker that dies
// (killed, out of memory) fails the checks it had under way, and the next check starts a new one.
import {fork} from 'node:child_process';
import {fileURLToPath} from 'node:url';

// `root`: the workspace; `trace`: the service's cold-start log.
export const checkerClient = ({root, trace}) => {
  const checks = new Map(); // id -> {resolve, reject, child}
  let checkIds = 0;
  let checker = null;

  const startChecker = () => {
    trace('checker forked');
    const child = fork(fileURLToPath(new URL('./checker.mjs', import.meta.url)), [root], {
      cwd: root,
      stdio: ['ignore', 2, 2, 'ipc'], // its output is log, never protocol
    });
    child.on('message', (/** @type {{id: number, result?: any, error?: {message: string, stack: string}}} */ {id, result, error}) => {
      const pending = checks.get(id);
      checks.delete(id);
      if (!pending) return;
      if (error) pending.reject(Object.assign(new Error(error.message), {stack: error.stack, kind: 'internal'}));
      else pending.resolve(result);
    });
    // Its channel closing, its exit and a failure to start all mean the same: it answers no more.
    const lost = () => {
      if (checker === child) checker = null;
      child.kill('SIGKILL');
      for (const [id, pending] of checks) {
        if (pending.child !== child) continue;
        checks.delete(id);
        pending.reject(Object.assign(new Error('the lint and typecheck process stopped (killed, or out of memory); check again'), {kind: 'checker-crashed'}));
      }
    };
    child.on('disconnect', lost);
    child.on('exit', lost);
    child.on('error', lost);
    return child;
  };

  const runCheck = (op) => (args) =>
    new Promise((resolve, reject) => {
      if (!checker?.connected) checker = startChecker();
      const id = ++checkIds;
      checks.set(id, {resolve, reject, child: checker});
      checker.send({id, op, args});
    });

  return {
    lint: runCheck('lint'),
    typecheck: runCheck('typecheck'),
    stop: () => checker?.kill(),
  };
};
