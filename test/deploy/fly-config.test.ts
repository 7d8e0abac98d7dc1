// fly.toml and its volume variant, parsed, with the keys scale-to-zero depends on.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'smol-toml';
import { CACHE_TABLE } from '../../src/settings/cache.js';
import { serveConfig } from '../../src/settings/serve.js';
import { readAll } from '../../src/settings/setting.js';
import { PROJECT_ROOT } from '../helpers/fixtures.js';

type Toml = Record<string, unknown>;
const read = (name: string): Toml => parse(readFileSync(join(PROJECT_ROOT, name), 'utf8')) as Toml;

for (const file of ['fly.toml', 'fly.volume.toml']) {
  test(`${file}: suspend-to-zero, request concurrency, /health check, kill signal and a VM that can suspend`, () => {
    const t = read(file);
    const http = t.http_service as Toml;
    assert.equal(http.internal_port, 8080);
    assert.equal(http.auto_stop_machines, 'suspend');
    assert.equal(http.auto_start_machines, true);
    assert.equal(http.min_machines_running, 0);
    const conc = http.concurrency as Toml;
    assert.equal(conc.type, 'requests');
    assert.ok((conc.soft_limit as number) <= (conc.hard_limit as number));
    const checks = http.checks as Toml[];
    assert.equal(checks[0].path, '/health');
    assert.equal(checks[0].method, 'GET');
    const grace = Number(String(checks[0].grace_period).replace('s', ''));
    assert.ok(grace <= 10, 'a short grace period: the port is bound before the model loads');
    assert.ok(t.kill_signal === 'SIGINT' || t.kill_signal === 'SIGTERM');
    const env = t.env as Record<string, string>;
    const cfg = serveConfig({ 'api-key': 'k'.repeat(16) }, env);
    const killTimeout = Number(String(t.kill_timeout).replace('s', '')) * 1000;
    assert.ok(killTimeout > cfg.graceMs, `kill_timeout ${killTimeout} ms must exceed the service's grace ${cfg.graceMs} ms`);
    assert.equal(env.API_KEY, undefined, 'the key is a secret, not in the file');
    const vm = (t.vm as Toml[])[0];
    assert.equal(vm.size, 'shared-cpu-1x');
    const m = /^(\d+)(mb|gb)$/i.exec(String(vm.memory));
    assert.ok(m, `memory "${String(vm.memory)}" is in mb or gb`);
    const mb = Number(m[1]) * (m[2].toLowerCase() === 'gb' ? 1024 : 1);
    assert.ok(mb >= 512 && mb <= 2048, 'suspend needs at most 2 GB; the measured peak needs 512 MB');
    assert.equal(vm.swap_size_mb, undefined, 'suspend does not allow swap');
  });
}

test('the volume variant mounts /data, keeps HF_HOME there and builds without a model', () => {
  const t = read('fly.volume.toml');
  const mounts = t.mounts as Toml;
  assert.equal(mounts.destination, '/data');
  assert.equal((t.env as Toml).HF_HOME, '/data/huggingface');
  // The embedding cache on the volume too, read by the same table serve reads it with.
  const cache = readAll(CACHE_TABLE, {}, t.env as Record<string, string>);
  assert.ok(cache.cacheDir?.startsWith('/data/'), `CACHE_DIR ${cache.cacheDir} is on the volume`);
  assert.ok(cache.cacheDiskMb * 2 ** 20 < 1e9 / 2, 'the store leaves the 1 GB volume room for the model');
  const args = (t.build as Toml).args as Toml;
  assert.equal(args.MODEL_STORE, 'volume');
  assert.equal(args.PREPARED_DIR, '');
  assert.equal(read('fly.toml').mounts, undefined, 'the default keeps the model in the image');
});
