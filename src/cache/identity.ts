// What a cached vector is filed under. A vector depends on the prepared model (its manifest's
// hash: repo, commit, dtype, pooling and the rest of the rules, the files it was made from),
// on the graph that ran it (the int8 path, s8 or u8 weights, and packed weights), and on the
// token ids fed, which carry the prompt, the instruction and the truncation. Normalization and
// `dimensions` are applied after the cache (it holds the raw pooled vector), so they are not
// part of the key. infinity's cache keys on the raw input text alone, and serves a vector of
// another model or prompt after either changed; this one cannot.

import { createHash } from 'node:crypto';

/** The model as it runs here: manifest and graph. 32 bytes. */
export function modelIdentity(manifestHash: string, graph: string): Buffer {
  return createHash('sha256').update(`ortos-embed model\n${manifestHash}\n${graph}`).digest();
}

/** One input's key: the identity and the token ids fed. 32 bytes. */
export function entryKey(identity: Buffer, ids: readonly number[]): Buffer {
  const h = createHash('sha256').update(identity);
  const row = Int32Array.from(ids);
  h.update(new Uint8Array(row.buffer, row.byteOffset, row.byteLength));
  return h.digest();
}
