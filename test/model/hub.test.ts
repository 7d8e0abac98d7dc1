// The downloader against a stand-in that answers as huggingface.co does today (relative 307
// for small files, a cross-origin 302 to a CDN for LFS/Xet files; testing/stand-in-hub.ts says
// where each behaviour comes from). Every download test ends with the same checks: no metadata
// request and no Authorization header reached the CDN, and the cache is complete and verified,
// or holds nothing that could be used.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { cachedFixture } from '../fixture-models/generate.js';
import { startStandInHub, type StandInHub } from '../helpers/stand-in-hub.js';
import { DEFAULT_REPO, DEFAULT_REVISION, HubClient, HubError, type HubOptions } from '../../src/model/hub.js';
import { repoFolder } from '../../src/model/hub-cache.js';
import { skipOrFail } from '../helpers/skip.js';

const REPO = 'ortos/tiny-e5';
const PR_COMMIT = 'bead'.padEnd(40, '7');
const TOKEN = 'hf_reader_granted';
let hub: StandInHub;
const work = mkdtempSync(join(tmpdir(), 'ortos-hub-'));
let logs: string[] = [];

before(async () => {
  const folder = cachedFixture('tiny', 'int8');
  hub = await startStandInHub({
    repos: [
      // As intfloat/multilingual-e5-base: tokenizer.json (17 MB there) is in LFS.
      { id: REPO, folder, lfs: ['tokenizer.json'], refs: { 'refs/pr/1': PR_COMMIT } },
      { id: 'ortos/gated-e5', folder, lfs: ['tokenizer.json'], gated: true },
      { id: 'ortos/private-e5', folder, private: true },
      { id: 'ortos/new-name', folder, lfs: ['tokenizer.json'], formerly: ['ortos/old-name'] },
      { id: 'ortos/readme', folder: readmeRepo() },
    ],
    tokens: { [TOKEN]: ['ortos/gated-e5', 'ortos/private-e5'], hf_reader_not_granted: [] },
  });
});
after(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  logs = [];
  hub.requests.length = 0;
  for (const k of Object.keys(hub.faults)) delete (hub.faults as Record<string, unknown>)[k];
});

function readmeRepo(): string {
  const dir = join(work, 'readme-repo');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'README.md'), '# A model card\n\n' + 'Multilingual embeddings for retrieval. '.repeat(150));
  return dir;
}

/** A port nothing listens on (fetch refuses "bad ports" such as 9 outright). */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const FAST_RETRY = { max: 3, baseMs: 20, maxMs: 80 };

function client(home: string, extra: Partial<HubOptions> = {}): HubClient {
  return new HubClient({ hubCache: home, endpoint: hub.url, offline: false, log: (m) => logs.push(m), progressEvery: 0, retry: FAST_RETRY, lock: { pollMs: 20 }, ...extra });
}

function home(name: string): string {
  return join(work, name);
}

function blobsLeft(cache: string, repo = REPO): string[] {
  const dir = join(repoFolder(cache, repo), 'blobs');
  return existsSync(dir) ? readdirSync(dir) : [];
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** The CDN never saw a metadata request nor a token. */
function assertCdnClean(): void {
  const cdn = hub.requests.filter((r) => r.server === 'cdn');
  assert.deepEqual(cdn.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`), [], 'no HEAD (or other metadata request) reached the CDN');
  assert.deepEqual(cdn.filter((r) => r.authorization !== undefined).map((r) => r.path), [], 'no Authorization header reached the CDN');
}

/** Every blob is named by its own hash and every snapshot entry points at one; nothing partial is usable. */
function assertCacheSound(cache: string, repo = REPO): void {
  const folder = repoFolder(cache, repo);
  const blobs = join(folder, 'blobs');
  for (const name of existsSync(blobs) ? readdirSync(blobs) : []) {
    if (name.endsWith('.incomplete')) continue;
    const data = readFileSync(join(blobs, name));
    assert.equal(name.length === 64 ? sha256(data) : gitSha1(data), name, `blob ${name} holds what its name says`);
  }
  const snaps = join(folder, 'snapshots');
  for (const commit of existsSync(snaps) ? readdirSync(snaps) : []) {
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (lstatSync(p).isDirectory()) walk(p);
        else {
          assert.ok(!e.endsWith('.tmp'), `no temporary entry ${p}`);
          const data = readFileSync(p);
          assert.ok(existsSync(join(blobs, sha256(data))) || existsSync(join(blobs, gitSha1(data))), `${p} is a verified blob`);
        }
      }
    };
    walk(join(snaps, commit));
  }
}

function assertComplete(dir: string): void {
  for (const f of hub.files) {
    const p = join(dir, f.path);
    assert.ok(lstatSync(p).isSymbolicLink(), `${f.path} should be a symlink into blobs/`);
    assert.equal(sha256(readFileSync(p)), f.sha256, f.path);
  }
}

test('huggingface.co today: small files via the relative 307 to resolve-cache (query kept), LFS via the 302 to the CDN', async () => {
  const cache = home('full');
  const snap = await client(cache).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  assert.equal(snap.dir, join(repoFolder(cache, REPO), 'snapshots', hub.commit));
  assert.equal(snap.commit, hub.commit);
  assertComplete(snap.dir);
  // Blobs are named as the Python tools name them: git SHA-1 for small files, SHA-256 for LFS.
  const small = hub.files.find((f) => f.path === 'config.json')!;
  const lfs = hub.files.find((f) => f.path === 'tokenizer.json')!;
  assert.equal(readlinkSync(join(snap.dir, 'config.json')), `../../blobs/${small.gitSha1}`);
  assert.equal(readlinkSync(join(snap.dir, 'tokenizer.json')), `../../blobs/${lfs.sha256}`);
  assert.equal(readFileSync(join(repoFolder(cache, REPO), 'refs', 'main'), 'utf8'), hub.commit);
  // The small file's bytes came from the resolve-cache URL with its etag query.
  const got = hub.requests.filter((r) => r.method === 'GET' && r.path.includes('/api/resolve-cache/') && r.path.endsWith(`/${hub.commit}/config.json`));
  assert.equal(got.length, 1);
  assert.match(got[0].query, /etag=%22[0-9a-f]{40}%22/);
  // Sizes are the file's: the client asked for no compression.
  assert.ok(hub.requests.filter((r) => r.server === 'hub').every((r) => r.acceptEncoding === 'identity'));
  assert.ok(logs.some((l) => /tokenizer.json: .* checksum ok/.test(l)));
  assertCdnClean();
  assertCacheSound(cache);
});

test('with HF_TOKEN the hub gets the token and the CDN never does', async () => {
  const cache = home('token');
  await client(cache, { token: TOKEN }).snapshot({ repo: REPO, revision: hub.commit }, 'int8');
  assert.ok(hub.requests.filter((r) => r.server === 'hub').every((r) => r.authorization === `Bearer ${TOKEN}`));
  assert.ok(hub.requests.some((r) => r.server === 'cdn'), 'LFS files came from the CDN');
  assertCdnClean();
  assertCacheSound(cache);
});

test('the stand-in is the hub: gzip when asked (weak ETag, no length), nothing for a client that drops the query', async () => {
  const head = await fetch(`${hub.url}/ortos/readme/resolve/main/README.md`, { method: 'HEAD', redirect: 'manual' });
  assert.equal(head.status, 307);
  assert.equal(head.headers.get('etag'), null);
  assert.equal(head.headers.get('x-linked-size'), null);
  assert.ok(Number(head.headers.get('content-length')) < 1000, 'the 307\'s length is its own body\'s');
  const location = head.headers.get('location')!;
  assert.match(location, /^\/api\/resolve-cache\/models\/ortos\/readme\/[0-9a-f]{40}\/README.md\?%2Fortos%2Freadme%2Fresolve%2Fmain%2FREADME.md=&etag=%22[0-9a-f]{40}%22$/);
  const gz = await fetch(new URL(location, hub.url), { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(gz.headers.get('content-encoding'), 'gzip');
  assert.match(gz.headers.get('etag') ?? '', /^W\/"/);
  const plain = await fetch(new URL(location.split('?')[0], hub.url), { method: 'HEAD', headers: { 'accept-encoding': 'identity' } });
  assert.equal(gz.headers.get('content-length'), null);
  assert.equal(plain.headers.get('x-repo-commit'), null, 'without its query the cache does not answer as the hub');
  // And the client, asking for no compression, gets the file with its own size and ETag.
  const cache = home('readme');
  const path = await client(cache).file('ortos/readme', hub.repos[4].commit, 'README.md');
  assert.equal(readFileSync(path, 'utf8').length, hub.repos[4].files[0].data.length);
});

test('a dropped connection resumes in the same process with a Range request, and says so', async () => {
  const cache = home('resume');
  hub.faults.dropAfter = 3_000_000;
  const snap = await client(cache).snapshot({ repo: REPO, revision: hub.commit }, 'int8');
  const ranged = hub.requests.filter((r) => r.server === 'cdn' && r.range !== undefined);
  assert.equal(ranged.length, 1, 'one resume');
  const from = Number(/bytes=(\d+)-/.exec(ranged[0].range!)![1]);
  assert.ok(from > 0 && from <= 3_000_000, `resumed at ${from}`);
  assert.ok(logs.some((l) => / at [\d.]+ (of [\d.]+ )?MiB; resuming; retry 1 of 3 in [\d.]+ s/.test(l)), logs.join('\n'));
  assert.ok(logs.some((l) => /^resuming .* at [\d.]+ of [\d.]+ MiB/.test(l)));
  assertComplete(snap.dir);
  assertCdnClean();
  assertCacheSound(cache);
});

test('a stalled connection (no byte for the stall timeout) is abandoned and resumed', async () => {
  const cache = home('stall');
  hub.faults.stallAfter = 1_000_000;
  const snap = await client(cache, { stallMs: 300 }).snapshot({ repo: REPO, revision: hub.commit }, 'int8');
  assert.ok(logs.some((l) => /no data for 0 s|no data for/.test(l)), logs.join('\n'));
  assert.ok(hub.requests.some((r) => r.server === 'cdn' && r.range === 'bytes=1000000-'));
  assertComplete(snap.dir);
  assertCdnClean();
  assertCacheSound(cache);
});

test('a CDN that answers a Range with the whole file: the file starts over and ends verified', async () => {
  const cache = home('ignore-range');
  hub.faults.dropAfter = 2_000_000;
  hub.faults.ignoreRange = true;
  const snap = await client(cache).snapshot({ repo: REPO, revision: hub.commit }, 'int8');
  assert.ok(logs.some((l) => /sent the whole file instead of the rest; starting over/.test(l)), logs.join('\n'));
  assertComplete(snap.dir);
  assertCacheSound(cache);
});

test('an expired signed CDN URL is refreshed from the hub once', async () => {
  const cache = home('expired');
  hub.faults.expireNext = true;
  const snap = await client(cache).snapshot({ repo: REPO, revision: hub.commit }, 'int8');
  assert.ok(logs.some((l) => /download URL was refused \(HTTP 403\); got a fresh one/.test(l)), logs.join('\n'));
  assertComplete(snap.dir);
  assertCdnClean();
});

test('429: Retry-After is honoured and the download goes on; past the retries, a clear error and nothing usable', async () => {
  const cache = home('429');
  hub.faults.rateLimit = 2;
  hub.faults.retryAfter = 0;
  const snap = await client(cache).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  assert.equal(logs.filter((l) => /HTTP 429 \(rate limited\); retry \d of 3 in 1\.0 s/.test(l)).length, 2, logs.join('\n'));
  assertComplete(snap.dir);

  const cache2 = home('429-fail');
  hub.faults.rateLimit = 100;
  await assert.rejects(client(cache2).snapshot({ repo: REPO, revision: hub.commit }, 'int8'),
    (e: unknown) => e instanceof HubError && /rate-limited this client \(4 tries\); retry in 0 s \(a token, HF_TOKEN, raises the limit\)/.test(e.message));
  assert.equal(existsSync(join(repoFolder(cache2, REPO), 'snapshots')), false);
  assertCacheSound(cache2);
});

test('transient 502/503: retried with backoff; a hub that keeps failing is a clear error, and a cached branch stands in', async () => {
  const cache = home('5xx');
  hub.faults.failNext = { count: 2, status: 503 };
  const snap = await client(cache).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  assert.equal(logs.filter((l) => /HTTP 503; retry \d of 3/.test(l)).length, 2);
  assertComplete(snap.dir);

  hub.faults.failNext = { count: 100, status: 502 };
  logs = [];
  // main is cached: the failing hub is logged and the cached commit used.
  const again = await client(cache).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  assert.equal(again.dir, snap.dir);
  assert.ok(logs.some((l) => /the hub is unreachable or failing \(.*HTTP 502.*\); using the cached main → [0-9a-f]{40}/.test(l)), logs.join('\n'));

  hub.faults.failNext = { count: 100, status: 502 };
  await assert.rejects(client(home('5xx-empty')).snapshot({ repo: REPO, revision: 'main' }, 'int8'), /answered HTTP 502 .* 4 times; it may be down, retry later/);
  assertCacheSound(home('5xx-empty'));
});

test('an unreachable hub: a clear error naming the way out, or the cached branch', async () => {
  const port = await closedPort();
  const down = (cache: string): HubClient => new HubClient({ hubCache: cache, endpoint: `http://127.0.0.1:${port}`, offline: false, log: (m) => logs.push(m), retry: { max: 1, baseMs: 10 } });
  await assert.rejects(down(home('down')).snapshot({ repo: REPO, revision: 'main' }, 'int8'), /cannot reach http:\/\/127.0.0.1:\d+ \(ECONNREFUSED\).*HF_HUB_OFFLINE=1/);
  assert.ok(logs.some((l) => /ECONNREFUSED; retry 1 of 1/.test(l)), 'the retry is logged');
  const cache = home('down-cached');
  await client(cache).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  const snap = await down(cache).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  assert.equal(snap.commit, hub.commit);
});

test('gated repo: without a token, not yet granted, and granted (small files served directly)', async () => {
  const ref = { repo: 'ortos/gated-e5', revision: 'main' };
  await assert.rejects(client(home('gated-anon')).snapshot(ref, 'int8'), /ortos\/gated-e5 is gated: accept its conditions at .*\/ortos\/gated-e5 with your account, then set HF_TOKEN/);
  await assert.rejects(client(home('gated-no'), { token: 'hf_reader_not_granted' }).snapshot(ref, 'int8'), /has not been granted access yet: ask for it at/);
  const cache = home('gated-yes');
  hub.requests.length = 0;
  const snap = await client(cache, { token: TOKEN }).snapshot(ref, 'int8');
  assert.ok(existsSync(join(snap.dir, 'config.json')));
  assert.ok(!hub.requests.some((r) => r.path.includes('resolve-cache')), 'an authorised gated repo serves small files directly');
  assertCdnClean();
  assertCacheSound(cache, 'ortos/gated-e5');
});

test('missing repo, missing revision, missing file and a refused token each say what to check', async () => {
  await assert.rejects(client(home('nf1')).snapshot({ repo: 'ortos/nope', revision: 'main' }, 'int8'), /ortos\/nope was not found on .*: check the name; a private or gated repo needs HF_TOKEN \(the hub says: "Repository not found"\)/);
  await assert.rejects(client(home('nf2'), { token: TOKEN }).snapshot({ repo: 'ortos/nope', revision: 'main' }, 'int8'), /was not found .* check the name, and that the account of HF_TOKEN can see it/);
  await assert.rejects(client(home('nf3')).snapshot({ repo: 'ortos/private-e5', revision: 'main' }, 'int8'), /ortos\/private-e5 was not found/);
  await assert.rejects(client(home('nf4')).snapshot({ repo: REPO, revision: 'no-such-branch' }, 'int8'), /ortos\/tiny-e5 has no revision "no-such-branch": check the part after @ in --model/);
  await assert.rejects(client(home('nf5')).file(REPO, hub.commit, 'onnx/nothing.onnx'), /ortos\/tiny-e5@[0-9a-f]{40} onnx\/nothing.onnx: no such file in the repo/);
  await assert.rejects(client(home('nf6'), { token: 'hf_made_up' }).snapshot({ repo: REPO, revision: 'main' }, 'int8'), /the hub refused HF_TOKEN as invalid credentials/);
  // A private repo with a token that may read it works.
  const snap = await client(home('private-ok'), { token: TOKEN }).snapshot({ repo: 'ortos/private-e5', revision: 'main' }, 'int8');
  assert.ok(existsSync(join(snap.dir, 'tokenizer.json')));
});

test('a renamed repo: the relative 307s are followed and the files land under the new name', async () => {
  const cache = home('renamed');
  const snap = await client(cache).snapshot({ repo: 'ortos/old-name', revision: 'main' }, 'int8');
  assert.equal(snap.repo, 'ortos/new-name');
  assert.ok(snap.dir.startsWith(repoFolder(cache, 'ortos/new-name')));
  assert.ok(logs.some((l) => /ortos\/old-name is now called ortos\/new-name/.test(l)));
  assert.equal(readFileSync(join(repoFolder(cache, 'ortos/old-name'), 'refs', 'main'), 'utf8'), snap.commit);
  assertCdnClean();
  assertCacheSound(cache, 'ortos/new-name');
});

test('a mirror as HF_ENDPOINT that 308s to the hub: followed when the target is a hub host, refused clearly when not', async () => {
  const mirror = await hub.startMirror();
  try {
    // The stand-in plays huggingface.co here, so the client is told its host is the hub's.
    const cache = home('mirror');
    const snap = await new HubClient({ hubCache: cache, endpoint: mirror.url, offline: false, log: (m) => logs.push(m), retry: FAST_RETRY, hubHosts: [hub.host], token: TOKEN })
      .snapshot({ repo: REPO, revision: 'main' }, 'int8');
    assertComplete(snap.dir);
    assert.ok(hub.requests.some((r) => r.server === 'mirror'));
    assert.ok(hub.requests.filter((r) => r.server !== 'cdn').every((r) => r.authorization === `Bearer ${TOKEN}`), 'the token went to the mirror and the hub');
    assertCdnClean();
    // A mirror redirecting somewhere that is not a hub host: nothing is followed with the token.
    await assert.rejects(
      new HubClient({ hubCache: home('mirror-unknown'), endpoint: mirror.url, offline: false, log: () => {}, retry: FAST_RETRY }).snapshot({ repo: REPO, revision: 'main' }, 'int8'),
      /is not the model-info JSON|has no commit id|HF_ENDPOINT/);
  } finally {
    await mirror.close();
  }
});

test('refs/pr/N: the revision is resolved, its ref written atomically under refs/refs/pr/N', async () => {
  const cache = home('pr');
  const snap = await client(cache).snapshot({ repo: REPO, revision: 'refs/pr/1' }, 'int8');
  assert.equal(snap.commit, PR_COMMIT);
  assert.equal(readFileSync(join(repoFolder(cache, REPO), 'refs', 'refs', 'pr', '1'), 'utf8'), PR_COMMIT);
  assert.ok(hub.requests.some((r) => r.path.includes('/revision/refs%2Fpr%2F1')));
  assert.deepEqual(readdirSync(join(repoFolder(cache, REPO), 'refs', 'refs', 'pr')), ['1'], 'no temporary ref left');
  assertComplete(snap.dir);
});

test('a corrupted download is refused by checksum and deleted; nothing is linked', async () => {
  const cache = home('corrupt');
  hub.faults.corrupt = true;
  await assert.rejects(client(cache).snapshot({ repo: REPO, revision: 'main' }, 'int8'), /checksum mismatch/);
  const lfs = new Set(hub.files.filter((f) => f.lfs).map((f) => f.sha256));
  assert.deepEqual(blobsLeft(cache).filter((b) => lfs.has(b.replace('.incomplete', ''))), []);
  assert.equal(existsSync(join(repoFolder(cache, REPO), 'refs', 'main')), false, 'no ref to an incomplete snapshot');
  assertCacheSound(cache);
});

test('a full disk gives a clear error and leaves no partial file', async (t) => {
  const mnt = home('tiny-disk');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    skipOrFail(t, 'mounting a small tmpfs needs root; not available here');
    return;
  }
  try {
    await assert.rejects(client(mnt).snapshot({ repo: REPO, revision: 'main' }, 'int8'), (e: unknown) => e instanceof HubError && /disk is full/.test(e.message));
    assert.deepEqual(blobsLeft(mnt).filter((b) => b.endsWith('.incomplete')), []);
    assertCacheSound(mnt);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('a filesystem without symlinks (FAT): the snapshot holds copies, and the cache still works offline', async (t) => {
  const img = home('fat.img');
  const mnt = home('fat');
  mkdirSync(mnt);
  // The kernel's vfat where it has one, else FAT through FUSE (Debian's fusefat).
  let unmount: string[];
  try {
    execFileSync('truncate', ['-s', '64M', img]);
    execFileSync('mkfs.vfat', [img], { stdio: 'ignore' });
    try {
      execFileSync('mount', ['-o', 'loop', img, mnt], { stdio: 'ignore' });
      unmount = ['umount', mnt];
    } catch {
      execFileSync('fusefat', ['-o', 'rw+', img, mnt], { stdio: 'ignore' });
      unmount = ['fusermount', '-u', mnt];
    }
  } catch {
    skipOrFail(t, 'needs root, mkfs.vfat (dosfstools), and a vfat kernel module or fusefat');
    return;
  }
  try {
    const snap = await client(mnt).snapshot({ repo: REPO, revision: 'main' }, 'int8');
    for (const f of hub.files) {
      assert.ok(!lstatSync(join(snap.dir, f.path)).isSymbolicLink());
      assert.equal(sha256(readFileSync(join(snap.dir, f.path))), f.sha256);
    }
    assert.ok(logs.some((l) => /cannot hold symlinks; the snapshot has a copy/.test(l)));
    const offline = await client(mnt, { offline: true }).snapshot({ repo: REPO, revision: 'main' }, 'int8');
    assert.equal(offline.dir, snap.dir);
  } finally {
    execFileSync(unmount[0], unmount.slice(1));
  }
});

test('offline mode uses the cache without a single request, and says what is missing otherwise', async () => {
  const cache = home('offline');
  await assert.rejects(client(cache, { offline: true, offlineSource: '--offline' }).snapshot({ repo: REPO, revision: 'main' }, 'int8'), /offline \(--offline\), and ortos\/tiny-e5@main is not complete/);
  await client(cache).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  hub.requests.length = 0;
  const snap = await client(cache, { offline: true }).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  assert.ok(existsSync(join(snap.dir, 'tokenizer.json')));
  assert.equal(hub.requests.length, 0);
});

test('the pinned size of the default model is enforced (a different tokenizer.json is refused)', async () => {
  const pinned = await startStandInHub({ repos: [{ id: DEFAULT_REPO, folder: cachedFixture('tiny', 'int8'), commit: DEFAULT_REVISION, lfs: ['tokenizer.json'] }] });
  try {
    const c = new HubClient({ hubCache: home('pinned'), endpoint: pinned.url, offline: false, log: () => {}, retry: FAST_RETRY });
    await assert.rejects(c.snapshot({ repo: DEFAULT_REPO, revision: DEFAULT_REVISION }, 'int8'), /pinned size is 17082660/);
  } finally {
    await pinned.close();
  }
});

test('the listing and the file answer must agree on size', async () => {
  const cache = home('disagree');
  const c = client(cache);
  const f = hub.files.find((x) => x.path === 'tokenizer.json')!;
  await assert.rejects(c.file(REPO, hub.commit, f.path, { size: f.data.length + 1 }), /listing says \d+ bytes, its file answer \d+/);
});

test('a partial file held by a live download in another process is not touched: the second waits, then uses the blob', async () => {
  const cache = home('shared');
  hub.faults.bytesPerSecond = 8_000_000;
  const a = client(cache).snapshot({ repo: REPO, revision: hub.commit }, 'int8');
  // Once the first holds the tokenizer's lock, a second client on the same cache starts.
  const lockDir = join(cache, '.locks', 'models--ortos--tiny-e5');
  for (let i = 0; i < 500 && !(existsSync(lockDir) && readdirSync(lockDir).length > 0); i++) await new Promise((r) => setTimeout(r, 10));
  const b = client(cache).snapshot({ repo: REPO, revision: hub.commit }, 'int8');
  const [sa, sb] = await Promise.all([a, b]);
  assert.equal(sa.dir, sb.dir);
  assert.ok(logs.some((l) => /is downloading it into the same cache; waiting/.test(l)), logs.join('\n'));
  const tokenizerGets = hub.requests.filter((r) => r.server === 'cdn' && r.path.endsWith(hub.files.find((f) => f.path === 'tokenizer.json')!.xetHash));
  assert.equal(tokenizerGets.length, 1, 'downloaded once');
  assertCacheSound(cache);
});

test('stale lock files (a killed process) are taken over', async () => {
  const cache = home('stale-lock');
  const f = hub.files.find((x) => x.path === 'tokenizer.json')!;
  const lock = join(cache, '.locks', 'models--ortos--tiny-e5', `${f.sha256}.ortos.lock`);
  mkdirSync(join(lock, '..'), { recursive: true });
  // A pid that cannot be alive on this host.
  writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), since: new Date().toISOString(), token: 'x' }));
  const snap = await client(cache).snapshot({ repo: REPO, revision: hub.commit }, 'int8');
  assertComplete(snap.dir);
  assert.equal(existsSync(lock), false);
  assert.ok(statSync(join(repoFolder(cache, REPO), 'blobs', f.sha256)).size > 0);
});
