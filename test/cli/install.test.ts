// A fresh clone, as the README's first command leaves it (`npm install` runs no scripts here:
// .npmrc), and the command as a newcomer types it: `npx ortos-embed --help` builds the service
// on first use, then runs it; the next call does not build again.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/fixtures.js';

test('fresh clone: npx ortos-embed --help works without a build step, and builds only once', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ortos-clone-'));
  try {
    execFileSync('git', ['clone', '-q', PROJECT_ROOT, join(dir, 'r')]);
    const clone = join(dir, 'r');
    // The installed dependencies, as npm ci would lay them (the registry is not what is tested).
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(clone, 'node_modules'));
    assert.equal(existsSync(join(clone, 'dist')), false, 'nothing is built in a fresh clone');
    const first = spawnSync('npx', ['--no-install', 'ortos-embed', '--help'], { cwd: clone, encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^usage: ortos-embed <command> \[options\]/);
    assert.match(first.stderr, /building the service/);
    const again = spawnSync('npx', ['--no-install', 'ortos-embed', 'serve', '--help'], { cwd: clone, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^usage: ortos-embed serve/);
    assert.doesNotMatch(again.stderr, /building/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
