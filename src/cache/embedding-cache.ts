// The embedding cache in front of the model: raw pooled vectors by model identity and token ids
// (identity.ts), an in-memory tier (LRU, bounded in bytes) over an optional persistent tier
// (disk-tier.ts). A memory miss that the disk has is promoted. What goes in and comes out are
// copies: the door normalizes vectors in place.

import { DiskTier, type CacheLog } from './disk-tier.js';
import { entryKey } from './identity.js';
import { MemoryTier } from './memory-tier.js';

export interface CacheOptions {
  /** Bytes the in-memory tier may hold; 0 turns it off. */
  memoryBytes: number;
  /** The persistent tier's directory; none: no persistent tier. */
  dir?: string;
  /** Bytes of database pages the persistent tier may hold. */
  diskBytes: number;
  log: CacheLog;
}

export interface CacheStats {
  hits: number;
  misses: number;
  memory: { entries: number; bytes: number; max_bytes: number; evictions: number } | null;
  disk: { dir: string; entries: number; bytes: number; max_bytes: number; evictions: number; dropped: number } | null;
}

export class EmbeddingCache {
  hits = 0;
  misses = 0;

  private constructor(
    readonly memory: MemoryTier | null,
    readonly disk: DiskTier | null,
  ) {}

  static async open(opts: CacheOptions): Promise<EmbeddingCache> {
    const memory = opts.memoryBytes > 0 ? new MemoryTier(opts.memoryBytes) : null;
    const disk = opts.dir !== undefined ? await DiskTier.open(opts.dir, opts.diskBytes, opts.log) : null;
    return new EmbeddingCache(memory, disk);
  }

  get enabled(): boolean {
    return this.memory !== null || this.disk !== null;
  }

  /** Per row: its cached raw vector (a copy), or undefined. Counts hits and misses. */
  lookup(identity: Buffer, rows: readonly number[][]): Array<Float32Array | undefined> {
    return rows.map((ids) => {
      const key = entryKey(identity, ids);
      const id = key.toString('latin1');
      let v = this.memory?.get(id);
      if (v === undefined) {
        v = this.disk?.get(key);
        if (v !== undefined) this.memory?.set(id, v.slice());
      } else {
        v = v.slice();
      }
      if (v === undefined) this.misses++;
      else this.hits++;
      return v;
    });
  }

  /** Files each row's raw vector (copied) under its key. */
  store(identity: Buffer, rows: readonly number[][], vectors: readonly Float32Array[]): void {
    rows.forEach((ids, i) => {
      const key = entryKey(identity, ids);
      this.memory?.set(key.toString('latin1'), vectors[i].slice());
      this.disk?.put(key, vectors[i]);
    });
  }

  stats(): CacheStats {
    const m = this.memory;
    const d = this.disk;
    return {
      hits: this.hits,
      misses: this.misses,
      memory: m === null ? null : { entries: m.entries, bytes: m.bytes, max_bytes: m.maxBytes, evictions: m.evictions },
      disk: d === null ? null : { dir: d.dir, entries: d.entries, bytes: d.bytes, max_bytes: d.maxBytes, evictions: d.evictions, dropped: d.dropped },
    };
  }

  /** Writes what is pending and closes the store. */
  close(): void {
    this.disk?.close();
  }
}
