// The downloader against a stand-in hub on loopback: full download, interruption and resume,
// corruption, a full disk and offline mode; each ends in a correct cache or a clear error
// with nothing corrupt left behind.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cachedFixture } from '../fixtures/generate.js';
import { startStandInHub, type StandInHub } from '../testing/stand-in-hub.js';
import { DEFAULT_REPO, DEFAULT_REVISION, HubClient, HubError, repoFolder } from './hub.js';

const REPO = 'ortos/tiny-e5';
let hub: StandInHub;
const work = mkdtempSync(join(tmpdir(), 'ortos-hub-'));
const logs: string[] = [];

before(async () => {
  hub = await startStandInHub(REPO, cachedFixture('tiny', 'int8'));
});
after(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

function client(hfHome: string, offline = false): HubClient {
  return new HubClient({ hfHome, endpoint: hub.url, offline, log: (m) => logs.push(m), progressEvery: 0 });
}

function blobsLeft(hfHome: string, repo = REPO): string[] {
  const dir = join(repoFolder(hfHome, repo), 'blobs');
  return existsSync(dir) ? readdirSync(dir) : [];
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('a full download fills the hub cache layout: blobs by etag, snapshot symlinks, refs/main', async () => {
  const home = join(work, 'full');
  const dir = await client(home).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  assert.equal(dir, join(repoFolder(home, REPO), 'snapshots', hub.commit));
  for (const f of hub.files) {
    const p = join(dir, f.path);
    assert.ok(lstatSync(p).isSymbolicLink(), `${f.path} should be a symlink into blobs/`);
    assert.equal(sha256(readFileSync(p)), f.sha256);
  }
  assert.equal(readFileSync(join(repoFolder(home, REPO), 'refs', 'main'), 'utf8'), hub.commit);
  assert.ok(blobsLeft(home).every((b) => !b.endsWith('.incomplete')));
  assert.ok(logs.some((l) => /checksum ok/.test(l)));
});

test('an interrupted download leaves only a .incomplete file, and the next run resumes with a Range request', async () => {
  const home = join(work, 'resume');
  hub.faults.dropAfter = 3_000_000;
  hub.requests.length = 0;
  await assert.rejects(client(home).snapshot({ repo: REPO, revision: hub.commit }, 'int8'), (e: unknown) => e instanceof HubError && /run again to resume/.test(e.message));
  const partial = blobsLeft(home).filter((b) => b.endsWith('.incomplete'));
  assert.equal(partial.length, 1);
  // How much arrived before the cut depends on socket timing; whatever it is, that is where the next run starts.
  const have = statSync(join(repoFolder(home, REPO), 'blobs', partial[0])).size;
  assert.ok(have > 0 && have <= 3_000_000, `${have} bytes kept`);
  assert.equal(existsSync(join(repoFolder(home, REPO), 'snapshots', hub.commit, 'onnx')), false, 'no snapshot entry for an unfinished file');
  const dir = await client(home).snapshot({ repo: REPO, revision: hub.commit }, 'int8');
  assert.ok(hub.requests.some((r) => r.range === `bytes=${have}-`), 'resumed from where it stopped');
  for (const f of hub.files) assert.equal(sha256(readFileSync(join(dir, f.path))), f.sha256);
  assert.deepEqual(blobsLeft(home).filter((b) => b.endsWith('.incomplete')), []);
});

test('a corrupted download is refused by checksum and deleted; nothing is linked', async () => {
  const home = join(work, 'corrupt');
  hub.faults.corrupt = true;
  try {
    await assert.rejects(client(home).snapshot({ repo: REPO, revision: 'main' }, 'int8'), /checksum mismatch/);
  } finally {
    hub.faults.corrupt = false;
  }
  // The small (git) files may have landed; no LFS blob, partial or not, may remain.
  const lfs = new Set(hub.files.filter((f) => f.lfs).map((f) => f.sha256));
  assert.deepEqual(blobsLeft(home).filter((b) => lfs.has(b.replace('.incomplete', ''))), []);
});

test('a full disk gives a clear error and leaves no partial file', async (t) => {
  const mnt = join(work, 'tiny-disk');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    t.skip('mounting a small tmpfs needs root; not available here');
    return;
  }
  try {
    await assert.rejects(client(mnt).snapshot({ repo: REPO, revision: 'main' }, 'int8'), (e: unknown) => e instanceof HubError && /disk is full/.test(e.message));
    assert.deepEqual(blobsLeft(mnt).filter((b) => b.endsWith('.incomplete')), []);
    const lfs = new Set(hub.files.filter((f) => f.lfs).map((f) => f.sha256));
    assert.deepEqual(blobsLeft(mnt).filter((b) => lfs.has(b)), []);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('offline mode uses the cache without a single request, and says what is missing otherwise', async () => {
  const home = join(work, 'offline');
  await assert.rejects(client(home, true).snapshot({ repo: REPO, revision: 'main' }, 'int8'), /HF_HUB_OFFLINE is set/);
  await client(home).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  hub.requests.length = 0;
  const dir = await client(home, true).snapshot({ repo: REPO, revision: 'main' }, 'int8');
  assert.ok(existsSync(join(dir, 'tokenizer.json')));
  assert.equal(hub.requests.length, 0);
});

test('the pinned size of the default model is enforced (a different tokenizer.json is refused)', async () => {
  const pinned = await startStandInHub(DEFAULT_REPO, cachedFixture('tiny', 'int8'), DEFAULT_REVISION);
  try {
    const c = new HubClient({ hfHome: join(work, 'pinned'), endpoint: pinned.url, offline: false, log: () => {} });
    await assert.rejects(c.snapshot({ repo: DEFAULT_REPO, revision: DEFAULT_REVISION }, 'int8'), /pinned/);
  } finally {
    await pinned.close();
  }
});

test('an unreachable hub is a clear error that names the way out', async () => {
  const c = new HubClient({ hfHome: join(work, 'down'), endpoint: 'http://127.0.0.1:9', offline: false, log: () => {} });
  await assert.rejects(c.snapshot({ repo: REPO, revision: 'main' }, 'int8'), /cannot reach .*HF_HUB_OFFLINE/);
});
