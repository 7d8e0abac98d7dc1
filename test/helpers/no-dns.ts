// Loaded with `node --import`: a machine without a network, as its resolver answers there.
// Every name lookup fails as getaddrinfo fails on such a machine (ENOTFOUND), and no query
// leaves the process; addresses written as such (127.0.0.1, ::1) and localhost resolve as ever.

import dns from 'node:dns';
import { isIP } from 'node:net';

type Callback = (err: NodeJS.ErrnoException | null, address?: unknown, family?: number) => void;
const original = dns.lookup.bind(dns) as (host: string, opts: unknown, cb: Callback) => void;

(dns as { lookup: unknown }).lookup = (host: string, opts: unknown, cb?: Callback): void => {
  const callback = (typeof opts === 'function' ? opts : cb) as Callback;
  const options = typeof opts === 'function' ? {} : opts;
  if (isIP(host) !== 0 || host === 'localhost') return original(host, options, callback);
  const e = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: host });
  process.nextTick(() => callback(e));
};
