// Preloaded into `vidgen studio` (NODE_OPTIONS=--require): Remotion Studio binds to every
// interface (0.0.0.0 or ::) and has no option to change that; bind to 127.0.0.1 instead,
// so the Studio is reachable from this machine only.
const net = require('node:net');

const everywhere = new Set([undefined, null, '', '0.0.0.0', '::']);
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first] = args;
  if (first && typeof first === 'object' && !Array.isArray(first) && everywhere.has(first.host) && first.path === undefined) {
    args[0] = {...first, host: '127.0.0.1'};
  } else if (typeof first === 'number' && (typeof args[1] !== 'string' || everywhere.has(args[1]))) {
    args.splice(1, typeof args[1] === 'string' ? 1 : 0, '127.0.0.1');
  }
  return Reflect.apply(listen, this, args);
};
