// A lock between processes that share one cache (two Machines' worth of processes on one
// volume, or `prepare` next to a starting `serve`): only the holder writes a blob's partial
// file. Node has no flock(2), so this is the lock-file protocol proper-lockfile uses: the
// lock is a file created exclusively; its holder touches it every few seconds; a lock whose
// holder died (same host, pid gone) or that nobody touched for `staleMs` is broken, by a
// rename only one breaker can win.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LockOptions {
  /** A lock untouched for this long is taken over (ms). */
  staleMs?: number;
  /** How often the holder touches it (ms). */
  heartbeatMs?: number;
  pollMs?: number;
  /** Called once when the lock is found held by someone else. */
  onWait?: (holder: string) => void;
}

export interface HeldLock {
  release(): void;
}

interface Owner {
  pid: number;
  host: string;
  token?: string;
}

/** Whether process `pid` still runs (EPERM: it runs under another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

function staleReason(path: string, staleMs: number): string | null {
  let owner: Owner | null = null;
  try {
    owner = JSON.parse(readFileSync(path, 'utf8')) as Owner;
  } catch {
    // being written right now, or garbage: judged by age alone
  }
  if (owner && owner.host === hostname() && owner.pid !== process.pid && !alive(owner.pid)) return `its holder (pid ${owner.pid}) is gone`;
  try {
    const age = Date.now() - statSync(path).mtimeMs;
    if (age > staleMs) return `untouched for ${Math.round(age / 1000)} s`;
  } catch {
    return 'it is gone';
  }
  return null;
}

function tryCreate(path: string, token: string): boolean {
  try {
    writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), token }), { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') return false;
    throw e;
  }
}

export async function acquireLock(path: string, opts: LockOptions = {}): Promise<HeldLock> {
  const staleMs = opts.staleMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(staleMs / 6));
  mkdirSync(dirname(path), { recursive: true });
  const token = randomBytes(8).toString('hex');
  let told = false;
  for (;;) {
    if (tryCreate(path, token)) break;
    if (staleReason(path, staleMs) !== null) {
      // Whoever renames it first breaks it; the others find it gone and race to create.
      const grave = `${path}.stale-${process.pid}-${Date.now()}`;
      try {
        renameSync(path, grave);
        rmSync(grave, { force: true });
      } catch {
        // someone else broke it first
      }
      continue;
    }
    if (!told) {
      told = true;
      let holder = 'another process';
      try {
        const o = JSON.parse(readFileSync(path, 'utf8')) as Owner;
        holder = `pid ${o.pid} on ${o.host}`;
      } catch {
        // keep the generic name
      }
      opts.onWait?.(holder);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
  const beat = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // broken by someone who judged it stale: nothing to touch any more
    }
  }, heartbeatMs);
  beat.unref();
  let released = false;
  return {
    release(): void {
      if (released) return;
      released = true;
      clearInterval(beat);
      // Only our own: if it was broken as stale meanwhile, the file may be someone else's now.
      try {
        if ((JSON.parse(readFileSync(path, 'utf8')) as Owner).token === token) rmSync(path, { force: true });
      } catch {
        // already gone
      }
    },
  };
}
