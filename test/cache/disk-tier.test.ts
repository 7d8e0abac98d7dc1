// The persistent tier against what happens to files: a process killed mid-write, two processes
// on one directory, a damaged or truncated file, a flipped byte, a full disk, a flood over the
// bound. The rule in every case: the store opens, a read is the exact vector written or a
// miss (never another vector), and what was dropped is logged.

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DiskTier, STORE_FILE } from '../../src/cache/disk-tier.js';
import { skipOrFail } from '../helpers/skip.js';

const DIM = 768;
const MODULE = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'cache', 'disk-tier.js')).href;

/** Key i and its vector: both a function of i, so any row can be checked on its own. */
const key = (i: number): Buffer => createHash('sha256').update(`key ${i}`).digest();
function vector(i: number): Float32Array {
  const v = new Float32Array(DIM);
  for (let d = 0; d < DIM; d++) v[d] = Math.sin(i * 31 + d);
  return v;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ortos-cache-'));
}

async function open(dir: string, maxBytes = 1 << 30): Promise<{ tier: DiskTier; logs: string[] }> {
  const logs: string[] = [];
  const tier = await DiskTier.open(dir, maxBytes, (_level, message) => logs.push(message));
  assert.ok(tier !== null, `the store opens: ${logs.join('\n')}`);
  return { tier, logs };
}

/** Every key in `range` reads back as its own vector or not at all; how many were there. */
function checkAll(tier: DiskTier, range: number): number {
  let found = 0;
  for (let i = 0; i < range; i++) {
    const got = tier.get(key(i));
    if (got === undefined) continue;
    found++;
    assert.deepEqual(got, vector(i), `row ${i} is its own vector`);
  }
  return found;
}

/** A store in `dir` holding keys 0..n-1, closed. */
async function filled(dir: string, n: number): Promise<string> {
  const { tier } = await open(dir);
  for (let i = 0; i < n; i++) tier.put(key(i), vector(i));
  tier.close();
  return join(dir, STORE_FILE);
}

/** After damage: a new vector is stored and read back. */
function worksAgain(tier: DiskTier): void {
  tier.put(key(5000), vector(5000));
  tier.flush();
  assert.deepEqual(tier.get(key(5000)), vector(5000), 'and the new store works');
  tier.close();
}

test('vectors written are read back exactly after the store is closed and opened again', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  try {
    const { tier } = await open(dir);
    for (let i = 0; i < 200; i++) tier.put(key(i), vector(i));
    assert.deepEqual(tier.get(key(7)), vector(7), 'a pending write is read too');
    tier.close();
    const again = (await open(dir)).tier;
    assert.equal(again.entries, 200);
    assert.equal(checkAll(again, 200), 200);
    assert.equal(again.get(key(999)), undefined);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not a database is moved aside, said so, and an empty store started', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, STORE_FILE), Buffer.alloc(8192, 0x5a));
    const { tier, logs } = await open(dir);
    assert.ok(logs.some((l) => /is damaged .*moved it to .*\.damaged and started an empty one/.test(l)), logs.join('\n'));
    assert.ok(existsSync(join(dir, `${STORE_FILE}.damaged`)));
    tier.put(key(1), vector(1));
    tier.flush();
    assert.deepEqual(tier.get(key(1)), vector(1));
    tier.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated store: it opens, every read is the exact vector or a miss, and the damage is logged', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const path = await filled(dir, 3000);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const { tier: after, logs } = await open(dir);
    const found = checkAll(after, 3000);
    assert.ok(found < 3000, `${found} of 3000 still there`);
    assert.ok(logs.some((l) => /damaged/.test(l)), `the damage is logged: ${logs.join('\n')}`);
    worksAgain(after);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pages overwritten in the middle of the store: every read is the exact vector or a miss; the damage, met in a read, is logged', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const path = await filled(dir, 3000);
    const bytes = readFileSync(path);
    // Pages of the vectors' b-tree, past the schema and the counts at the start of the file.
    bytes.fill(0xa5, Math.floor(bytes.length * 0.4), Math.floor(bytes.length * 0.4) + 16 * 4096);
    writeFileSync(path, bytes);
    const { tier: after, logs } = await open(dir);
    assert.deepEqual(logs, [], 'the header and schema are sound: it opens without a word');
    const found = checkAll(after, 3000);
    assert.ok(found < 3000, `${found} of 3000 still there`);
    assert.ok(logs.some((l) => /is damaged .*started an empty one/.test(l)), `the damage is logged when read: ${logs.join('\n')}`);
    worksAgain(after);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flipped byte inside a stored vector: a miss (the row dropped and logged), never a wrong vector', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  try {
    const { tier } = await open(dir);
    tier.put(key(3), vector(3));
    tier.close();
    const path = join(dir, STORE_FILE);
    const bytes = readFileSync(path);
    const v = vector(3);
    const at = bytes.indexOf(Buffer.from(v.buffer, v.byteOffset + 1200, 64));
    assert.ok(at > 0, 'the vector is stored as its bytes');
    bytes[at + 10] ^= 0x40;
    writeFileSync(path, bytes);
    const { tier: after, logs } = await open(dir);
    assert.equal(after.get(key(3)), undefined);
    assert.ok(logs.some((l) => /failed its checksum; dropped it/.test(l)), logs.join('\n'));
    assert.equal(after.dropped, 1);
    after.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flood of distinct vectors stays within the bound; the least recently used go first', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const bound = 2 * 2 ** 20;
    const { tier } = await open(dir, bound);
    for (let i = 0; i < 5000; i++) {
      tier.put(key(i), vector(i));
      if (i % 100 === 99) {
        tier.flush();
        assert.ok(tier.bytes <= bound, `${tier.bytes} bytes in use after ${i + 1}, bound ${bound}`);
      }
    }
    tier.flush();
    assert.ok(tier.evictions > 0);
    assert.ok(statSync(join(dir, STORE_FILE)).size <= bound * 1.25, `the file itself: ${statSync(join(dir, STORE_FILE)).size} bytes`);
    assert.deepEqual(tier.get(key(4999)), vector(4999), 'the newest is kept');
    assert.equal(tier.get(key(0)), undefined, 'the oldest went');
    tier.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A child process that writes keys [from, to) into the store in `dir`, flushing every 50. */
function writer(dir: string, from: number, to: number): ReturnType<typeof spawn> {
  const code = `
    import { createHash } from 'node:crypto';
    const { DiskTier } = await import(${JSON.stringify(MODULE)});
    const tier = await DiskTier.open(${JSON.stringify(dir)}, 2 ** 30, (l, m) => console.error(m));
    for (let i = ${from}; i < ${to}; i++) {
      const v = new Float32Array(${DIM});
      for (let d = 0; d < ${DIM}; d++) v[d] = Math.sin(i * 31 + d);
      tier.put(createHash('sha256').update('key ' + i).digest(), v);
      if (i % 50 === 49) {
        tier.flush();
        console.log('flushed');
      }
    }
    tier.close();
    console.log('done');
  `;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
}

test('two processes writing one store at once: both finish, every row is intact', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const a = writer(dir, 0, 1500);
    const b = writer(dir, 1500, 3000);
    const [ca, cb] = await Promise.all([a, b].map((p) => new Promise<number | null>((r) => p.on('exit', r))));
    assert.deepEqual([ca, cb], [0, 0]);
    const { tier } = await open(dir);
    assert.equal(checkAll(tier, 3000), 3000);
    tier.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 in the middle of writing: the store opens and every row there is intact', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    for (let round = 0; round < 3; round++) {
      const p = writer(dir, round * 100_000, round * 100_000 + 50_000);
      // Killed once it has committed something, at a moment of its writing this machine's speed decides.
      await new Promise<void>((r) => p.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('flushed')) r();
      }));
      await new Promise((r) => setTimeout(r, 20 + round * 30));
      p.kill('SIGKILL');
      await new Promise((r) => p.on('exit', r));
    }
    const { tier, logs } = await open(dir);
    let found = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = round * 100_000; i < round * 100_000 + 50_000; i += 7) {
        const got = tier.get(key(i));
        if (got === undefined) continue;
        found++;
        assert.deepEqual(got, vector(i), `row ${i}`);
      }
    }
    assert.ok(found > 0, 'the killed writers had committed some rows');
    assert.deepEqual(logs, [], 'nothing was damaged');
    tier.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full disk: writes stop with a warning, reads go on, nothing throws', { timeout: 60_000 }, async (t: TestContext) => {
  const mnt = tempDir();
  try {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      skipOrFail(t, 'mounting a small tmpfs needs root; not available here');
      return;
    }
    const dir = join(mnt, 'cache');
    mkdirSync(dir);
    const { tier, logs } = await open(dir);
    tier.put(key(0), vector(0));
    tier.flush();
    for (let i = 1; i < 2000; i++) {
      tier.put(key(i), vector(i));
      if (i % 20 === 0) tier.flush();
    }
    tier.flush();
    assert.ok(logs.some((l) => /is full; new vectors are not stored/.test(l)), logs.join('\n'));
    assert.deepEqual(tier.get(key(0)), vector(0), 'what was stored is still read');
    checkAll(tier, 2000);
    tier.close();
  } finally {
    try {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
    rmSync(mnt, { recursive: true, force: true });
  }
});
