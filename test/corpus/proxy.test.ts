// `embed --input … --url` against two `serve` processes behind a real proxy (HAProxy, least
// connections, on loopback), as Fly's proxy spreads a job over Machines: one of them answers 429
// when its queue is short, and one is killed in the middle of the job. The job ends with every
// row once, in input order, byte for byte what a single process in this machine writes (the
// fp32 fixture: batch-invariant, so it does not matter which server computed which batch).

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { preparedFixture } from '../helpers/models.js';
import { BIN, spawnServe, type ServeProcess } from '../helpers/serve-process.js';
import { skipOrFail } from '../helpers/skip.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('two servers behind HAProxy, one answering 429 and one killed mid-job: every row once, as one process writes them', { timeout: 300_000 }, async (t: TestContext) => {
  if (spawnSync('haproxy', ['-v']).status !== 0) {
    skipOrFail(t, 'needs HAProxy (Debian package haproxy)');
    return;
  }
  const { modelDir } = await preparedFixture('tiny', 'fp32');
  const work = mkdtempSync(join(tmpdir(), 'ortos-proxy-'));
  const servers: ServeProcess[] = [];
  let proxy: ChildProcess | null = null;
  try {
    const rows = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ id: i, text: `строка номер ${i} ${'текст '.repeat(i % 7)}` }));
    const input = join(work, 'in.jsonl');
    writeFileSync(input, rows.join('\n') + '\n');
    const args = ['--model-dir', modelDir, '--dtype', 'fp32', '--threads', '1', '--cache-memory-mb', '0'];
    // The second has a short queue: with four batches of 16 in flight it refuses some (429).
    servers.push(await spawnServe([...args, '--max-queue-wait', '10m']), await spawnServe([...args, '--max-queued-inputs', '40', '--max-queue-wait', '10m']));
    await Promise.all(servers.map((s) => s.waitFor('model ready')));
    const port = await freePort();
    const cfg = join(work, 'haproxy.cfg');
    writeFileSync(cfg, [
      'global', '  maxconn 256',
      'defaults', '  mode http', '  timeout connect 2s', '  timeout client 60s', '  timeout server 60s', '  retries 3', '  option redispatch',
      `frontend in`, `  bind 127.0.0.1:${port}`, '  default_backend services',
      'backend services', '  balance leastconn', '  option httpchk GET /health',
      ...servers.map((s, i) => `  server s${i} ${new URL(s.url).host} check inter 200ms fall 1 rise 2`),
      '',
    ].join('\n'));
    proxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let proxyErr = '';
    proxy.stderr?.on('data', (d: Buffer) => (proxyErr += d.toString()));
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && proxy.exitCode === null;) {
      const up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(proxy.exitCode, null, `HAProxy runs: ${proxyErr}`);

    const output = join(work, 'out.jsonl');
    const job = spawn(process.execPath, [BIN, 'embed', '--input', input, '--output', output, '--id-field', 'id', '--input-type', 'passage', '--url', `http://127.0.0.1:${port}`, '--batch-rows', '16', '--concurrency', '4'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let jobErr = '';
    job.stderr?.on('data', (d: Buffer) => (jobErr += d.toString()));
    const done = new Promise<number | null>((r) => job.on('exit', (code) => r(code)));
    const progress = `${output}.progress.json`;
    await until(() => existsSync(progress) && (JSON.parse(readFileSync(progress, 'utf8')) as { rows: number }).rows >= 300, 120_000);
    servers[0].child.kill('SIGKILL');
    assert.equal(await done, 0, jobErr);
    assert.match(jobErr, /HTTP 429/, 'the short queue said 429, and the job waited and went on');

    const local = join(work, 'local.jsonl');
    const r = spawnSync(process.execPath, [BIN, 'embed', ...args, '--input', input, '--output', local, '--id-field', 'id', '--input-type', 'passage'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = readFileSync(output, 'utf8').trim().split('\n');
    assert.equal(got.length, rows.length, 'every row once');
    assert.deepEqual(got.map((l) => (JSON.parse(l) as { id: number }).id), rows.map((_, i) => i), 'in input order');
    assert.ok(readFileSync(output).equals(readFileSync(local)), 'byte for byte what one process writes');

    // Compact vectors through the service (output_dtype, base64 bytes) are the ones made here.
    for (const [dtype, ext] of [['int8', 'npy'], ['ubinary', 'jsonl']] as const) {
      const remote = join(work, `remote-${dtype}.${ext}`);
      const own = join(work, `own-${dtype}.${ext}`);
      // Batches of 16: the server left has a queue of 40 inputs.
      const common = ['--input', input, '--id-field', 'id', '--input-type', 'passage', '--output-dtype', dtype, '--batch-rows', '16'];
      const viaUrl = spawnSync(process.execPath, [BIN, 'embed', ...common, '--output', remote, '--url', servers[1].url], { encoding: 'utf8' });
      assert.equal(viaUrl.status, 0, viaUrl.stderr);
      const here = spawnSync(process.execPath, [BIN, 'embed', ...args, ...common, '--output', own], { encoding: 'utf8' });
      assert.equal(here.status, 0, here.stderr);
      assert.ok(readFileSync(remote).equals(readFileSync(own)), `${dtype}: the service's bytes are this process's`);
    }
  } finally {
    proxy?.kill('SIGTERM');
    for (const s of servers) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    rmSync(work, { recursive: true, force: true });
  }
});
