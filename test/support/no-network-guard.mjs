// Preloaded with `node --import` into a process that must not touch the network: any outbound socket or DNS
// lookup prints one line naming it and ends the process with code 99, so a test cannot miss it.
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';

function deny(what) {
  process.stderr.write(`NETWORK ACCESS BLOCKED: ${what}\n`);
  process.exit(99);
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const opts = typeof args[0] === 'object' && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { port: args[0], host: args[1] };
  // Unix-domain sockets and pipes are local IPC, not network.
  if (opts && typeof opts.path === 'string') return originalConnect.apply(this, args);
  if (typeof args[0] === 'string' && Number.isNaN(Number(args[0]))) return originalConnect.apply(this, args);
  deny(`connect ${opts?.host ?? 'localhost'}:${opts?.port}`);
};
tls.connect = (...args) => deny(`tls.connect ${JSON.stringify(args[0]?.host ?? args[0])}`);
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveTxt', 'resolveSrv', 'reverse']) {
  const original = dns[name];
  const originalPromise = dns.promises[name];
  // Looking up an IP literal asks no server (a server binding 127.0.0.1 does it): that is not network use.
  dns[name] = (host, ...rest) => (name === 'lookup' && net.isIP(host) ? original(host, ...rest) : deny(`dns.${name} ${host}`));
  dns.promises[name] = async (host, ...rest) =>
    name === 'lookup' && net.isIP(host) ? originalPromise(host, ...rest) : deny(`dns.promises.${name} ${host}`);
}
dgram.createSocket = () => deny('dgram.createSocket');
globalThis.fetch = async (url) => deny(`fetch ${url}`);
