// The log as tooling reads it (JSON lines with pino's fields) and as a person at a terminal reads
// it (one readable line); serve picks the readable one only on a terminal, unless told.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, prettyLine } from '../../src/server/logger.js';
import { serveConfig } from '../../src/settings/serve.js';

test('json: one object a line with level, time, pid and msg; below the level nothing', () => {
  const lines: string[] = [];
  const log = createLogger('info', (l) => lines.push(l));
  log.debug('hidden');
  log.warn('queue full', { waiting: 12 });
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]) as Record<string, unknown>;
  assert.deepEqual([o.level, o.msg, o.waiting, o.pid], [40, 'queue full', 12, process.pid]);
  assert.ok(Math.abs(Number(o.time) - Date.now()) < 60_000);
});

test('pretty: time, level, message, then key=value (quoted where needed)', () => {
  const at = new Date('2026-11-29T12:04:05.123Z');
  assert.equal(prettyLine('info', at, 'model ready', { loadMs: 231, model_id: 'intfloat/multilingual-e5-base', cpu: 'Intel Xeon', ok: true, gone: undefined }),
    '12:04:05.123 INFO  model ready loadMs=231 model_id=intfloat/multilingual-e5-base cpu="Intel Xeon" ok=true\n');
  assert.equal(prettyLine('error', at, 'request failed'), '12:04:05.123 ERROR request failed\n');
  const lines: string[] = [];
  createLogger('debug', (l) => lines.push(l), 'pretty').debug('x', { a: 'b=c' });
  assert.match(lines[0], /^\d\d:\d\d:\d\d\.\d{3} DEBUG x a="b=c"\n$/);
});

test('--log-format: auto by default, json or pretty when asked, anything else refused', () => {
  const base = { host: '127.0.0.1', port: '0' };
  assert.equal(serveConfig(base, {}).logFormat, 'auto');
  assert.equal(serveConfig({ ...base, 'log-format': 'json' }, {}).logFormat, 'json');
  assert.equal(serveConfig(base, { LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
  assert.throws(() => serveConfig({ ...base, 'log-format': 'xml' }, {}), /--log-format must be one of auto, json, pretty/);
});
