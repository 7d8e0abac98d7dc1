// The word-embedding rows a batch needs, read from the prepared table file (see
// onnx/embedding-table.ts) with one positioned read per run of consecutive ids, dequantized
// exactly as the graph's DequantizeLinear did ((q − zero point) × scale in float32), with a
// small cache of recently used rows. A cold start reads ~1 KB per distinct token instead of
// faulting in pages (and their readahead) of a 183 MiB mapped table.

import { open, type FileHandle } from 'node:fs/promises';
import type { EmbeddingTable } from '../onnx/embedding-table.js';

const ELEMENT_BYTES = { float32: 4, int8: 1, uint8: 1 } as const;

export class EmbeddingRows {
  /** Recently used rows, as stored (int8 rows are 4× smaller than their floats), least recent first. */
  private readonly cache = new Map<number, Uint8Array>();
  private cachedBytes = 0;
  private readonly rowBytes: number;
  private perRow: { scales: Float32Array; zeroPoints: Int32Array } | null = null;

  private constructor(
    private readonly file: FileHandle,
    readonly table: EmbeddingTable,
    private readonly cacheBytes: number,
  ) {
    this.rowBytes = table.dim * ELEMENT_BYTES[table.type];
  }

  static async open(path: string, table: EmbeddingTable, cacheBytes = 8 * 2 ** 20): Promise<EmbeddingRows> {
    const rows = new EmbeddingRows(await open(path, 'r'), table, cacheBytes);
    if (table.perRow) {
      const scales = new Float32Array(table.rows);
      const zeroPoints = new Int32Array(table.rows);
      await rows.file.read(new Uint8Array(scales.buffer), 0, scales.byteLength, table.perRow.scalesAt);
      await rows.file.read(new Uint8Array(zeroPoints.buffer), 0, zeroPoints.byteLength, table.perRow.zeroPointsAt);
      rows.perRow = { scales, zeroPoints };
    }
    return rows;
  }

  get dim(): number {
    return this.table.dim;
  }

  /** Rows for the ids, missing ones read in runs of consecutive ids, all runs at once. */
  private async fetch(ids: readonly number[]): Promise<Map<number, Uint8Array>> {
    const found = new Map<number, Uint8Array>();
    const missing: number[] = [];
    for (const id of new Set(ids)) {
      const row = this.cache.get(id);
      if (row) {
        // Most recent last.
        this.cache.delete(id);
        this.cache.set(id, row);
        found.set(id, row);
      } else missing.push(id);
    }
    missing.sort((a, b) => a - b);
    const runs: Array<[number, number]> = [];
    for (const id of missing) {
      const last = runs.at(-1);
      if (last && last[1] === id) last[1] = id + 1;
      else runs.push([id, id + 1]);
    }
    await Promise.all(runs.map(async ([from, to]) => {
      const buf = new Uint8Array((to - from) * this.rowBytes);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await this.file.read(buf, got, buf.length - got, from * this.rowBytes + got);
        if (bytesRead === 0) throw new Error(`the embedding table ends before row ${to - 1} (truncated file? prepare again)`);
        got += bytesRead;
      }
      for (let id = from; id < to; id++) found.set(id, buf.subarray((id - from) * this.rowBytes, (id - from + 1) * this.rowBytes));
    }));
    for (const id of missing) this.remember(id, found.get(id)!);
    return found;
  }

  private remember(id: number, row: Uint8Array): void {
    if (this.rowBytes > this.cacheBytes) return;
    // A copy, so the run's buffer can go.
    this.cache.set(id, row.slice());
    this.cachedBytes += this.rowBytes;
    while (this.cachedBytes > this.cacheBytes) {
      const oldest = this.cache.keys().next().value as number;
      this.cache.delete(oldest);
      this.cachedBytes -= this.rowBytes;
    }
  }

  /** [rows × cols × dim] floats for the ids of a batch (row-major, padding included). */
  async lookup(ids: BigInt64Array): Promise<Float32Array> {
    const list = Array.from(ids, (x) => Number(x));
    for (const id of list) if (!(id >= 0 && id < this.table.rows)) throw new Error(`token id ${id} is outside the embedding table (${this.table.rows} rows)`);
    const rows = await this.fetch(list);
    const dim = this.table.dim;
    const out = new Float32Array(list.length * dim);
    const { type, scale, zeroPoint } = this.table;
    list.forEach((id, t) => {
      const raw = rows.get(id)!;
      const o = t * dim;
      if (type === 'float32') {
        out.set(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), o);
        return;
      }
      const q = type === 'int8' ? new Int8Array(raw.buffer, raw.byteOffset, dim) : raw;
      if (this.perRow) {
        const s = this.perRow.scales[id];
        const z = this.perRow.zeroPoints[id];
        for (let i = 0; i < dim; i++) out[o + i] = (q[i] - z) * s;
      } else if (typeof scale === 'number' && typeof zeroPoint === 'number') {
        for (let i = 0; i < dim; i++) out[o + i] = (q[i] - zeroPoint) * scale;
      } else {
        const sc = scale as number | number[];
        const zp = (zeroPoint ?? 0) as number | number[];
        for (let i = 0; i < dim; i++) out[o + i] = (q[i] - (typeof zp === 'number' ? zp : zp[i])) * (typeof sc === 'number' ? sc : sc[i]);
      }
    });
    return out;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}
