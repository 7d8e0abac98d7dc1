// The whole path a new user takes, as processes: `prepare --model ORG/NAME@COMMIT` against a
// stand-in that answers as huggingface.co does, then `embed` offline from the cache it filled.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cachedFixture } from '../fixture-models/generate.js';
import { repoFolder } from '../../src/model/hub-cache.js';
import { BIN } from '../helpers/serve-process.js';
import { startStandInHub, type StandInHub } from '../helpers/stand-in-hub.js';

const REPO = 'ortos/tiny-e5';
let hub: StandInHub;
const work = mkdtempSync(join(tmpdir(), 'ortos-hub-cli-'));

before(async () => {
  const folder = cachedFixture('tiny', 'int8');
  hub = await startStandInHub({
    repos: [{ id: REPO, folder, lfs: ['tokenizer.json'] }, { id: 'ortos/gated', folder, gated: true }],
    tokens: { hf_granted_reader: ['ortos/gated'] },
  });
});
after(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Not spawnSync: the stand-in hub lives in this process and must keep answering. */
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

test('prepare --model ORG/NAME@COMMIT from the hub, then embed offline: the same vector as --model-dir on the same files', async () => {
  const hfHome = join(work, 'hf');
  const env = { HF_HOME: hfHome, HF_ENDPOINT: hub.url };
  const prep = await run(['prepare', '--model', `${REPO}@${hub.commit}`], env);
  assert.equal(prep.code, 0, prep.err);
  assert.match(prep.err, /downloading tokenizer.json/);
  assert.match(prep.err, /checksum ok/);
  assert.ok(existsSync(join(repoFolder(join(hfHome, 'hub'), REPO), 'snapshots', hub.commit, 'tokenizer.json')));

  hub.requests.length = 0;
  const offline = await run(['embed', '--model', `${REPO}@${hub.commit}`, 'query: привет, мир'], { HF_HOME: hfHome, HF_HUB_OFFLINE: '1' });
  assert.equal(offline.code, 0, offline.err);
  assert.equal(hub.requests.length, 0, 'offline means no request at all');
  const local = await run(['embed', '--model-dir', cachedFixture('tiny', 'int8'), 'query: привет, мир']);
  assert.equal(local.code, 0, local.err);
  const a = JSON.parse(offline.out) as number[];
  const b = JSON.parse(local.out) as number[];
  assert.equal(a.length, 32);
  assert.deepEqual(a, b);
});

test('two processes preparing into one cache at once: one downloads each file, the other waits; both end with a verified model', async () => {
  const hfHome = join(work, 'shared');
  hub.requests.length = 0;
  hub.faults.bytesPerSecond = 6_000_000;
  try {
    const env = { HF_HOME: hfHome, HF_ENDPOINT: hub.url };
    const [a, b] = await Promise.all([run(['prepare', '--model', REPO, '--prepared-dir', join(work, 'p1')], env), run(['prepare', '--model', REPO, '--prepared-dir', join(work, 'p2')], env)]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    assert.match(a.err + b.err, /is downloading it into the same cache; waiting/);
    const tokenizer = hub.files.find((f) => f.path === 'tokenizer.json')!;
    const gets = hub.requests.filter((r) => r.server === 'cdn' && r.path.endsWith(tokenizer.xetHash));
    assert.equal(gets.length, 1, 'the tokenizer was downloaded once');
    assert.deepEqual(readdirSync(join(repoFolder(join(hfHome, 'hub'), REPO), 'blobs')).filter((n) => n.includes('incomplete')), []);
  } finally {
    hub.faults.bytesPerSecond = undefined;
  }
});

test('a gated repo: the token saved in $HF_HOME/token is used; without it, exit 1 with what to do', async () => {
  const hfHome = join(work, 'gated');
  const denied = await run(['prepare', '--model', 'ortos/gated'], { HF_HOME: hfHome, HF_ENDPOINT: hub.url });
  assert.equal(denied.code, 1);
  assert.match(denied.err, /ortos-embed: error: ortos\/gated is gated: accept its conditions at .* then set HF_TOKEN/);
  assert.doesNotMatch(denied.err, /at .*\.js:\d+/, 'no stack trace');
  mkdirSync(hfHome, { recursive: true });
  writeFileSync(join(hfHome, 'token'), 'hf_granted_reader\n');
  const ok = await run(['prepare', '--model', 'ortos/gated'], { HF_HOME: hfHome, HF_ENDPOINT: hub.url });
  assert.equal(ok.code, 0, ok.err);
});

test('HF_HUB_CACHE puts the hub cache elsewhere, as for the Python tools', async () => {
  const cache = join(work, 'elsewhere', 'hub');
  const r = await run(['prepare', '--model', REPO], { HF_HOME: join(work, 'unused'), HF_HUB_CACHE: cache, HF_ENDPOINT: hub.url });
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(join(repoFolder(cache, REPO), 'refs', 'main')));
  assert.equal(existsSync(join(work, 'unused', 'hub')), false);
});
