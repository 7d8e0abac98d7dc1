// The persistent tier: one SQLite file in --cache-dir, through Node.js's own `node:sqlite`
// (no dependency; 0.3 ms to import and 1-2 ms to open, where the `lmdb` package took 21-23 ms
// to import on the wake path and cannot survive a damaged file, which may crash the process).
//
// - Crash-safe: WAL journal, so kill -9 at any moment leaves the last committed state; each
//   vector carries its CRC-32, so a damaged page is a miss (and is dropped), never a wrong vector.
// - A file that is not a database, or is damaged, is moved aside and an empty one started; a full
//   disk stops new writes (logged), reads go on. Nothing here throws into a request.
// - Several processes may share the file: SQLite's locks, and a busy timeout for writers.
// - Bounded: past `maxBytes` of pages in use, the least recently used rows go (an index on the
//   time of last use, which hits refresh), and the pages are returned to the file system.
// - Writes are batched: one transaction every few milliseconds, not one per vector.

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { crc32 } from 'node:zlib';

export const STORE_FILE = 'embeddings.sqlite';
const SCHEMA_VERSION = 1;
const FLUSH_MS = 5;
/**
 * A hit refreshes a row's time of last use only when it is older than this: eviction needs no
 * finer order, and re-reading a corpus then writes nothing (an update per hit rewrote the row's
 * pages into the journal: 40% of a re-indexing pass's time).
 */
const TOUCH_AFTER_MS = 10 * 60_000;
/** Writes held while the file is busy or full, at most (a cache may forget). */
const MAX_PENDING = 10_000;

export type CacheLog = (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;

type SqliteError = Error & { errcode?: number; errstr?: string };
// SQLite's result codes (https://sqlite.org/rescode.html), primary part.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_NOTADB = 26;
const code = (e: unknown): number => ((e as SqliteError).errcode ?? 0) & 0xff;
const damaged = (e: unknown): boolean => code(e) === SQLITE_CORRUPT || code(e) === SQLITE_NOTADB;

interface Statements {
  get: StatementSync;
  put: StatementSync;
  touch: StatementSync;
  drop: StatementSync;
  oldest: StatementSync;
  count: StatementSync;
}

export class DiskTier {
  private db: DatabaseSync | null = null;
  private st: Statements | null = null;
  private pending = new Map<string, { key: Buffer; value: Uint8Array; crc: number }>();
  private touched = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private fullSince = 0;
  /** Rows in the store (every process's), as of this process's last write. */
  entries = 0;
  /** Bytes of pages in use, as of the last write. */
  bytes = 0;
  evictions = 0;
  dropped = 0;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly log: CacheLog,
    private readonly sqlite: typeof import('node:sqlite'),
  ) {}

  /** Opens (or starts) the store in `dir`; null, with the reason logged, if it cannot be used at all. */
  static async open(dir: string, maxBytes: number, log: CacheLog): Promise<DiskTier | null> {
    let sqlite: typeof import('node:sqlite');
    try {
      sqlite = await import('node:sqlite');
    } catch {
      log('warn', `cache: the --cache-dir store needs Node.js 22.13 or later (node:sqlite); this is ${process.version}, so only the in-memory tier is on`);
      return null;
    }
    const tier = new DiskTier(dir, maxBytes, log, sqlite);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      log('warn', `cache: cannot create ${dir} (${(e as Error).message}); the disk tier is off`);
      return null;
    }
    return tier.connect() ? tier : null;
  }

  get path(): string {
    return join(this.dir, STORE_FILE);
  }

  private connect(): boolean {
    try {
      this.openFile();
      return true;
    } catch (e) {
      this.closeQuietly();
      if (!damaged(e)) {
        this.log('warn', `cache: cannot open ${this.path} (${(e as Error).message}); the disk tier is off`);
        return false;
      }
      this.setAside(e);
      try {
        this.openFile();
        return true;
      } catch (again) {
        this.closeQuietly();
        this.log('warn', `cache: cannot start a new ${this.path} (${(again as Error).message}); the disk tier is off`);
        return false;
      }
    }
  }

  private openFile(): void {
    const db = new this.sqlite.DatabaseSync(this.path, { timeout: 5000 });
    this.db = db;
    // Read the header first: a file that is not a database fails here, not in a request.
    const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    if (version !== SCHEMA_VERSION && version !== 0) {
      // Another layout (a newer or older release): this cache's rows cannot be read as ours.
      db.exec('DROP TABLE IF EXISTS vectors; DROP TABLE IF EXISTS counts');
      this.log('info', `cache: ${this.path} had layout ${version}; started afresh with layout ${SCHEMA_VERSION}`);
    }
    db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    db.exec('PRAGMA journal_mode = WAL');
    // WAL with NORMAL: a commit survives a killed process; only a power cut may lose the last ones.
    db.exec('PRAGMA synchronous = NORMAL');
    // The row count is kept by triggers (an upsert updates, never deletes and inserts), so
    // reading it costs nothing: count(*) would read every leaf page of the store at each start.
    db.exec(`CREATE TABLE IF NOT EXISTS vectors (k BLOB PRIMARY KEY, v BLOB NOT NULL, crc INTEGER NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS vectors_used ON vectors(used);
      CREATE TABLE IF NOT EXISTS counts (one INTEGER PRIMARY KEY CHECK (one = 1), rows INTEGER NOT NULL);
      INSERT OR IGNORE INTO counts (one, rows) VALUES (1, 0);
      CREATE TRIGGER IF NOT EXISTS vectors_in AFTER INSERT ON vectors BEGIN UPDATE counts SET rows = rows + 1; END;
      CREATE TRIGGER IF NOT EXISTS vectors_out AFTER DELETE ON vectors BEGIN UPDATE counts SET rows = rows - 1; END;
      PRAGMA user_version = ${SCHEMA_VERSION};`);
    this.st = {
      get: db.prepare('SELECT v, crc, used FROM vectors WHERE k = ?'),
      put: db.prepare('INSERT INTO vectors (k, v, crc, used) VALUES (?, ?, ?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v, crc = excluded.crc, used = excluded.used'),
      touch: db.prepare('UPDATE vectors SET used = ? WHERE k = ?'),
      drop: db.prepare('DELETE FROM vectors WHERE k = ?'),
      oldest: db.prepare('DELETE FROM vectors WHERE k IN (SELECT k FROM vectors ORDER BY used LIMIT ?)'),
      count: db.prepare('SELECT rows AS n FROM counts'),
    };
    this.entries = Number((this.st.count.get() as { n: number }).n);
    this.bytes = this.pagesInUse();
  }

  private pagesInUse(): number {
    const db = this.db as DatabaseSync;
    const pragma = (name: string): number => Number(Object.values(db.prepare(`PRAGMA ${name}`).get() as Record<string, number>)[0]);
    return (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');
  }

  /** Moves a damaged store aside (kept for a post-mortem, replacing an older one) and says so. */
  private setAside(why: unknown): void {
    const aside = `${this.path}.damaged`;
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        if (suffix === '' && existsSync(this.path)) renameSync(this.path, aside);
        else rmSync(this.path + suffix, { force: true });
      } catch {
        // gone already, or another process moved it
      }
    }
    this.dropped++;
    this.log('warn', `cache: ${this.path} is damaged (${(why as Error).message}); moved it to ${aside} and started an empty one: its vectors will be computed again`);
  }

  private closeQuietly(): void {
    try {
      this.db?.close();
    } catch {
      // closing a broken handle
    }
    this.db = null;
    this.st = null;
  }

  /** After damage found in use: start over with an empty file. */
  private reset(why: unknown): void {
    this.closeQuietly();
    this.pending.clear();
    this.touched.clear();
    this.setAside(why);
    this.entries = 0;
    this.bytes = 0;
    if (!this.connect()) this.closeQuietly();
  }

  get(key: Buffer): Float32Array | undefined {
    const st = this.st;
    if (st === null) return undefined;
    const id = key.toString('latin1');
    const waiting = this.pending.get(id);
    if (waiting !== undefined) return toVector(waiting.value);
    let row: { v: Uint8Array; crc: number; used: number } | undefined;
    try {
      row = st.get.get(key) as { v: Uint8Array; crc: number; used: number } | undefined;
    } catch (e) {
      if (damaged(e)) this.reset(e);
      else if (code(e) !== SQLITE_BUSY && code(e) !== SQLITE_LOCKED) this.log('warn', `cache: reading ${this.path} failed (${(e as Error).message})`);
      return undefined;
    }
    if (row === undefined) return undefined;
    if (row.v.byteLength % 4 !== 0 || crc32(row.v) !== Number(row.crc) >>> 0) {
      this.log('warn', 'cache: a stored vector failed its checksum; dropped it (it will be computed again)');
      this.dropped++;
      try {
        st.drop.run(key);
      } catch {
        // dropped at the next damage check
      }
      return undefined;
    }
    if (Date.now() - Number(row.used) > TOUCH_AFTER_MS) {
      this.touched.add(id);
      this.schedule();
    }
    return toVector(row.v);
  }

  put(key: Buffer, vector: Float32Array): void {
    if (this.st === null || this.pending.size >= MAX_PENDING) return;
    if (this.fullSince > 0 && Date.now() - this.fullSince < 60_000) return;
    const value = new Uint8Array(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
    this.pending.set(key.toString('latin1'), { key, value, crc: crc32(value) });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, FLUSH_MS);
    this.timer.unref();
  }

  /** Writes what is pending in one transaction, then keeps the file within its bound. */
  flush(): void {
    const db = this.db;
    const st = this.st;
    if (db === null || st === null || (this.pending.size === 0 && this.touched.size === 0)) return;
    const now = Date.now();
    const written = this.pending.size;
    try {
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const { key, value, crc } of this.pending.values()) st.put.run(key, value, crc, now);
        for (const id of this.touched) st.touch.run(now, Buffer.from(id, 'latin1'));
        db.exec('COMMIT');
      } catch (e) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // the transaction is gone already
        }
        throw e;
      }
      this.pending.clear();
      this.touched.clear();
      this.entries = Number((st.count.get() as { n: number }).n);
      this.fullSince = 0;
      this.bytes = this.pagesInUse();
      if (this.bytes > this.maxBytes) this.evict();
    } catch (e) {
      if (damaged(e)) this.reset(e);
      else if (code(e) === SQLITE_FULL || (e as NodeJS.ErrnoException).code === 'ENOSPC') {
        if (this.fullSince === 0) this.log('warn', `cache: the disk under ${this.dir} is full; new vectors are not stored (the ${written} pending were dropped; retried in a minute)`);
        this.fullSince = Date.now();
        this.pending.clear();
        this.touched.clear();
      } else if (code(e) === SQLITE_BUSY || code(e) === SQLITE_LOCKED) {
        // Another process holds the file: the writes wait for the next flush.
        this.schedule();
      } else {
        this.log('warn', `cache: writing ${this.path} failed (${(e as Error).message}); ${written} vectors not stored`);
        this.pending.clear();
        this.touched.clear();
      }
    }
  }

  /** The least recently used rows go until the pages in use are under 90% of the bound. */
  private evict(): void {
    const db = this.db as DatabaseSync;
    const st = this.st as Statements;
    const rows = Number((st.count.get() as { n: number }).n);
    if (rows === 0) return;
    const perRow = this.bytes / rows;
    const n = Math.min(rows, Math.ceil((this.bytes - 0.9 * this.maxBytes) / perRow));
    st.oldest.run(n);
    db.exec('PRAGMA incremental_vacuum');
    this.evictions += n;
    this.entries = rows - n;
    this.bytes = this.pagesInUse();
  }

  /** Empties the store (the `cache --clear` command). */
  clear(): number {
    this.pending.clear();
    this.touched.clear();
    const db = this.db;
    const st = this.st;
    if (db === null || st === null) return 0;
    const n = Number((st.count.get() as { n: number }).n);
    db.exec('DELETE FROM vectors');
    db.exec('VACUUM');
    this.entries = 0;
    this.bytes = this.pagesInUse();
    return n;
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.flush();
    this.closeQuietly();
  }
}

function toVector(bytes: Uint8Array): Float32Array {
  // A copy on a fresh, aligned buffer: the caller may normalize it in place.
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
