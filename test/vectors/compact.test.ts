// Compact vectors against sentence-transformers' own definition: its `quantize_embeddings`
// (sentence_transformers/quantization.py, copied below as it stands upstream) run by numpy on
// the same float32 vectors, byte for byte; the ranges equal numpy's per-dimension min/max; the
// base64 of each type decodes (numpy.frombuffer) to the same bytes; values outside the
// calibration range are clipped to it instead of wrapping.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needNumpy, runPython } from '../helpers/numpy.js';
import { compactLoss } from '../../src/vectors/compact-report.js';
import { base64Of, compactVector, fromBase64, OUTPUT_DTYPES, Quantizer, rangesOf, type OutputDtype } from '../../src/vectors/compact.js';

// From UKPLab/sentence-transformers, sentence_transformers/quantization.py (v5), the body of
// quantize_embeddings for numpy input, unchanged but for the logging.
const SENTENCE_TRANSFORMERS = `
import json, sys, base64
import numpy as np

def quantize_embeddings(embeddings, precision, ranges=None, calibration_embeddings=None):
    if precision == "float32":
        return embeddings.astype(np.float32)
    if precision.endswith("int8"):
        if ranges is None:
            if calibration_embeddings is not None:
                ranges = np.vstack((np.min(calibration_embeddings, axis=0), np.max(calibration_embeddings, axis=0)))
            else:
                ranges = np.vstack((np.min(embeddings, axis=0), np.max(embeddings, axis=0)))
        starts = ranges[0, :]
        steps = (ranges[1, :] - ranges[0, :]) / 255
        if precision == "uint8":
            return ((embeddings - starts) / steps).astype(np.uint8)
        elif precision == "int8":
            return ((embeddings - starts) / steps - 128).astype(np.int8)
    if precision == "binary":
        return (np.packbits(embeddings > 0).reshape(embeddings.shape[0], -1) - 128).astype(np.int8)
    if precision == "ubinary":
        return np.packbits(embeddings > 0).reshape(embeddings.shape[0], -1)
    raise ValueError(precision)

job = json.load(sys.stdin)
cal = np.array(job["calibration"], dtype=np.float32)
emb = np.array(job["embeddings"], dtype=np.float32)
out = {"min": np.min(cal, axis=0).tolist(), "max": np.max(cal, axis=0).tolist()}
for p in ["int8", "uint8", "binary", "ubinary"]:
    q = quantize_embeddings(emb, p, calibration_embeddings=cal)
    out[p] = q.astype(np.int64).tolist()
    out[p + "_dtype"] = str(q.dtype)
out["decoded"] = {p: np.frombuffer(base64.b64decode(s), dtype=np.int8 if p in ("int8", "binary") else np.uint8).astype(np.int64).tolist() for p, s in job["base64"].items()}
print(json.dumps(out))
`;

/** A seeded generator: the same "known vectors" on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s + Math.imul(s ^ (s >>> 7), 61);
    return ((s ^ (s >>> 14)) >>> 0) / 2 ** 32;
  };
}

function unitVectors(n: number, dim: number, seed: number): Float32Array[] {
  const rnd = random(seed);
  return Array.from({ length: n }, () => {
    const v = Float32Array.from({ length: dim }, () => rnd() * 2 - 1);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

for (const dim of [768, 16]) {
  test(`${dim} dimensions: int8, uint8, binary and ubinary equal sentence-transformers' quantize_embeddings byte for byte`, { timeout: 60_000 }, (t) => {
    if (!needNumpy(t)) return;
    const calibration = unitVectors(200, dim, dim);
    // Vectors inside the calibration range (numpy's cast is defined there): calibration rows
    // themselves (their minima and maxima included) and convex mixes of two of them.
    const rnd = random(7);
    const embeddings = [
      ...calibration.slice(0, 20),
      ...Array.from({ length: 40 }, () => {
        const a = calibration[Math.floor(rnd() * 200)];
        const b = calibration[Math.floor(rnd() * 200)];
        const w = Math.fround(rnd());
        return a.map((x, d) => Math.fround(w * x + (1 - w) * b[d]));
      }),
    ];
    // A zero and a negative zero are not "> 0".
    embeddings[0][0] = 0;
    embeddings[0][1] = -0;
    const cal = rangesOf(calibration);
    const q = new Quantizer(cal);
    const ours = Object.fromEntries(OUTPUT_DTYPES.filter((d) => d !== 'float').map((d) => [d, embeddings.map((e) => compactVector(e, d, q))])) as Record<Exclude<OutputDtype, 'float'>, Array<Int8Array | Uint8Array>>;
    const base64 = Object.fromEntries(Object.entries(ours).map(([d, vs]) => [d, base64Of(vs[5])]));
    const ref = runPython(SENTENCE_TRANSFORMERS, { calibration: calibration.map((v) => Array.from(v)), embeddings: embeddings.map((v) => Array.from(v)), base64 }) as Record<string, unknown> & { min: number[]; max: number[]; decoded: Record<string, number[]> };
    assert.deepEqual(cal.min, ref.min, 'ranges: minimum');
    assert.deepEqual(cal.max, ref.max, 'ranges: maximum');
    for (const [d, vs] of Object.entries(ours)) {
      assert.equal(ref[`${d}_dtype`], d === 'int8' || d === 'binary' ? 'int8' : 'uint8', `${d}: numpy's type`);
      assert.equal(vs[0] instanceof Int8Array, d === 'int8' || d === 'binary', `${d}: our type`);
      assert.deepEqual(vs.map((v) => Array.from(v)), ref[d], `${d}: every byte`);
      assert.deepEqual(Array.from(vs[5]), ref.decoded[d], `${d}: base64 decoded by numpy`);
      assert.deepEqual(Array.from(fromBase64(base64[d], d as OutputDtype)), Array.from(vs[5]), `${d}: base64 decoded here`);
    }
    // Not a vacuous comparison: the codes span the range.
    const codes = ours.uint8.flatMap((v) => Array.from(v));
    assert.equal(Math.min(...codes), 0);
    assert.ok(Math.max(...codes) > 200, `highest code ${Math.max(...codes)}`);
  });
}

test('float base64 is the little-endian float32 bytes, back to the same vector', () => {
  const v = unitVectors(1, 768, 3)[0];
  const b = Buffer.from(base64Of(v), 'base64');
  assert.equal(b.length, 768 * 4);
  assert.equal(b.readFloatLE(4 * 17), v[17]);
  assert.deepEqual(fromBase64(base64Of(v), 'float'), v);
});

test('outside the calibration range a value is clipped to it first (numpy would wrap)', () => {
  const q = new Quantizer({ min: [-0.5, 0, 0], max: [0.5, 1, 0] });
  const ends = { lo: Float32Array.from([-0.5, 0, 0]), hi: Float32Array.from([0.5, 1, 0]) };
  for (const kind of ['int8', 'uint8'] as const) {
    const at = (v: Float32Array): number[] => Array.from(q[kind](v));
    assert.deepEqual(at(Float32Array.from([0.9, 7, 3])), at(ends.hi), `${kind}: above`);
    assert.deepEqual(at(Float32Array.from([-0.9, -3, -1])), at(ends.lo), `${kind}: below`);
    assert.deepEqual(at(Float32Array.from([0.5000001, 1.0000001, 0])), at(ends.hi), `${kind}: just above`);
  }
  // The top of the range is the top bucket or the one below (float32 division), never a wrap to the bottom.
  assert.ok(q.uint8(Float32Array.from([0.9, 2, 0]))[0] >= 254);
  assert.ok(q.int8(Float32Array.from([0.9, 2, 0]))[0] >= 126);
  // The constant dimension has one code; NaN goes to the lowest.
  assert.deepEqual(Array.from(q.uint8(Float32Array.from([NaN, 0.5, 5]))), [0, Math.trunc(Math.fround(0.5 / Math.fround(1 / 255))), 0]);
});

test('bits are packed most significant first, the last byte padded with zeros; binary is ubinary − 128', () => {
  const v = Float32Array.from([1, -1, 0, 2, -0, 3, -3, 1e-30, /* next byte */ 5, -5, 1]);
  assert.deepEqual(Array.from(compactVector(v, 'ubinary', undefined)), [0b10010101, 0b10100000]);
  assert.deepEqual(Array.from(compactVector(v, 'binary', undefined)), [0b10010101 - 128, 0b10100000 - 128]);
});

test('int8 and uint8 refuse to run without ranges', () => {
  assert.throws(() => compactVector(new Float32Array(4), 'int8', undefined), /calibration ranges/);
});

test('what verify reports: int8 keeps nearly all of float\'s top 10 and its cosine; binary keeps the signs\' cosine (about √(2/π) for spread values)', () => {
  const corpus = unitVectors(300, 256, 11);
  const rnd = random(5);
  // Queries near corpus items, so that the float top 10 is well defined.
  const queries = corpus.slice(0, 20).map((c) => {
    const v = c.map((x) => x + (rnd() - 0.5) * 0.02);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const loss = Object.fromEntries(compactLoss(queries, corpus, new Quantizer(rangesOf(corpus))).map((l) => [l.dtype, l]));
  assert.deepEqual(Object.keys(loss), ['int8', 'uint8', 'binary', 'ubinary']);
  for (const t of ['int8', 'uint8']) {
    assert.ok(loss[t].cosine > 0.999, `${t} cosine ${loss[t].cosine}`);
    assert.ok(loss[t].topOverlap >= 0.9, `${t} overlap ${loss[t].topOverlap}`);
  }
  assert.ok(loss.binary.cosine > 0.8 && loss.binary.cosine < 0.9, `binary cosine ${loss.binary.cosine}`);
  assert.equal(loss.binary.topOverlap, loss.ubinary.topOverlap);
  // The query's own item is found by every type.
  assert.ok(loss.binary.topOverlap > 0.1 && loss.binary.topOverlap < loss.int8.topOverlap, `binary overlap ${loss.binary.topOverlap}`);
});
