// The in-memory tier: least recently used first out, bounded in bytes (vectors and keys).
// A Map keeps insertion order, so a hit is moved to the end and eviction takes from the front.
// On Fly a suspended Machine keeps its memory, so this tier survives a suspend and resume.

/** What one entry costs besides its vector: the key string and the Map's own slot, measured roughly. */
const ENTRY_OVERHEAD = 120;

export class MemoryTier {
  private readonly map = new Map<string, Float32Array>();
  private used = 0;
  evictions = 0;

  constructor(readonly maxBytes: number) {}

  get entries(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.used;
  }

  get(key: string): Float32Array | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, vector: Float32Array): void {
    const cost = vector.byteLength + ENTRY_OVERHEAD;
    if (cost > this.maxBytes) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.used -= old.byteLength + ENTRY_OVERHEAD;
    }
    this.map.set(key, vector);
    this.used += cost;
    for (const [k, v] of this.map) {
      if (this.used <= this.maxBytes) break;
      this.map.delete(k);
      this.used -= v.byteLength + ENTRY_OVERHEAD;
      this.evictions++;
    }
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}
