// `prepare`: turns a model folder into the fast-loading form — the tokenizer compiled to
// typed arrays, the ONNX graph optimized once with its weights as an external data file —
// and records it in a manifest. Idempotent, and atomic: the new form is built beside the
// old one and swapped in with a rename, so a crash never leaves a half-prepared model in use.

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cpuFingerprint } from '../cpu.js';
import { chooseInt8Weights, int8Kernels } from '../engine/int8-kernels.js';
import { optimizeModel, ort, savePrepacked } from '../engine/onnx-session.js';
import { EMBEDDINGS_FILE, PREPACKED_DIR, PREPARED_FILES, PREPARED_FORMAT, MANIFEST_FILE, readManifest, stamp, staleReason, U8_FILES, type Manifest } from '../model/manifest.js';
import { REQUIRED_FILES, type Dtype, type ModelFiles } from '../model/layout.js';
import { rewriteTo4BitApart, type To4BitOptions } from '../onnx/to-4bit.js';
import { rewriteWeightsToU8 } from '../onnx/to-u8-weights.js';
import { extractEmbeddingTable } from '../onnx/embedding-table.js';
import { writeTokenizerFile } from '../tokenizer/binary-file.js';
import { compileTokenizerJson } from '../tokenizer/compile.js';
import { onnxruntimeVersion, ortosVersion } from '../version.js';
import { alive } from '../model/file-lock.js';
import { calibrate } from './calibrate.js';

export type Log = (message: string) => void;

/**
 * The q4 form: 4-bit blocks of 32 weights along K with a scale and a zero point each, int8
 * compute (accuracy level 4). The figures that chose these are in bench/results (q4-*.json).
 */
export const Q4 = { blockSize: 32, accuracyLevel: 4 } as const;

export interface PrepareResult {
  dir: string;
  /** True when an up-to-date prepared form was already there. */
  reused: boolean;
  reason: string | null;
  ms: number;
}

/** One prepared form per dtype, so a folder holding both exports can serve either. */
export function defaultPreparedDir(modelDir: string, dtype: Dtype): string {
  return join(modelDir, `ortos-prepared-${dtype}`);
}

export function sourcesOf(files: ModelFiles): string[] {
  return [...REQUIRED_FILES, ...files.ruleFiles, files.onnxName];
}

/** Work folders left by a prepare that was killed (kill -9, power loss): never used, only removed. */
function removeAbandoned(preparedDir: string, log: Log): void {
  const prefix = `.${basename(preparedDir)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(preparedDir));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) continue;
    rmSync(join(dirname(preparedDir), name), { recursive: true, force: true });
    log(`  removed ${name}, left by an interrupted prepare`);
  }
}

export interface PrepareOptions {
  force?: boolean;
  /** Also save packed weights for this CPU (faster start here, +~85 MB per 80 MB of int8 weights on disk). */
  prepack?: boolean;
  /** MatMulNBits parameters for q4 (default Q4); the benchmark tries others. */
  q4?: To4BitOptions;
}

export async function prepareModel(
  files: ModelFiles,
  preparedDir: string,
  origin: Manifest['origin'],
  log: Log,
  opts: PrepareOptions = {},
): Promise<PrepareResult> {
  const t0 = performance.now();
  const force = opts.force === true;
  // Read once: this runs on every start of serve.
  const existing = readManifest(preparedDir);
  let reason = staleReason(preparedDir, files.dir, sourcesOf(files), onnxruntimeVersion(), files.dtype, existing);
  if (reason === null && opts.prepack && existing?.prepacked?.cpu !== cpuFingerprint()) reason = 'no packed weights for this CPU yet';
  if (reason === null && files.dtype === 'q4') {
    const was = existing?.quantization;
    const want = opts.q4 ?? Q4;
    if (was?.blockSize !== want.blockSize || was.accuracyLevel !== want.accuracyLevel) reason = 'made with other 4-bit parameters';
  }
  if (reason === null && !force) return { dir: preparedDir, reused: true, reason: null, ms: performance.now() - t0 };
  log(`preparing ${files.dir} (${force ? 'forced' : reason})`);

  removeAbandoned(preparedDir, log);
  const tmp = join(dirname(preparedDir), `.${basename(preparedDir)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    // The graph first, the tokenizer last: parsing tokenizer.json leaves a large JavaScript
    // heap behind, which would otherwise sit under onnxruntime's peak.
    let t = performance.now();
    let graphSource = files.onnx;
    let quantization: Manifest['quantization'];
    if (files.dtype === 'q4') {
      graphSource = join(tmp, 'q4-source.onnx');
      const q4 = opts.q4 ?? Q4;
      const q = await rewriteTo4BitApart(files.onnx, graphSource, q4);
      quantization = { blockSize: q4.blockSize, accuracyLevel: q4.accuracyLevel, from: files.onnxName };
      const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
      log(`  q4: ${q.rewritten} MatMuls of ${files.onnxName} to 4-bit blocks of ${q4.blockSize}, ${mib(q.bytesBefore)} → ${mib(q.bytesAfter)} MiB` +
        `${q.embeddingTableQuantized ? ', word embeddings to int8' : ''} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      if (q.leftAlone.length > 0) log(`  q4: left as they were (pattern not recognised): ${q.leftAlone.join(', ')}`);
    }

    // The word-embedding table out of the graph, into a file the engine reads row by row.
    t = performance.now();
    let embeddings: Manifest['embeddings'];
    let embeddingsKept: string | undefined;
    const lookupFree = join(tmp, 'lookup-free.onnx');
    let extracted;
    try {
      extracted = extractEmbeddingTable(graphSource, lookupFree, EMBEDDINGS_FILE);
    } catch (e) {
      throw new Error(`${files.onnxName}: not a readable ONNX model (${(e as Error).message}); download it again, or check the file`);
    }
    if ('table' in extracted) {
      embeddings = { file: EMBEDDINGS_FILE, table: extracted.table };
      if (graphSource !== files.onnx) rmSync(graphSource);
      graphSource = lookupFree;
      const tb = extracted.table;
      log(`  embeddings: ${tb.rows} × ${tb.dim} ${tb.type} table out of the graph, read row by row (${((tb.rows * tb.dim * (tb.type === 'float32' ? 4 : 1)) / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    } else {
      embeddingsKept = extracted.kept;
      log(`  embeddings: the table stays in the graph (${extracted.kept}); the model serves as before, reading its pages through the memory map`);
    }

    t = performance.now();
    const io = await optimizeModel(graphSource, join(tmp, PREPARED_FILES.model), PREPARED_FILES.data);
    if (graphSource !== files.onnx) rmSync(graphSource);
    log(`  graph: ${files.onnxName} optimized (level extended, external weights) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    let u8: Manifest['u8'];
    if (files.dtype === 'int8') {
      // The same graph with uint8 weights, for CPUs where u8×s8 saturates (see to-u8-weights.ts).
      t = performance.now();
      const r = rewriteWeightsToU8(join(tmp, PREPARED_FILES.model), join(tmp, U8_FILES.model), U8_FILES.data);
      u8 = { ...U8_FILES };
      const count = Object.values(r.rewritten).reduce((a, b) => a + b, 0);
      log(`  int8: ${count} matmuls also with uint8 weights (${(r.bytes / 2 ** 20).toFixed(1)} MiB), exact on CPUs without VNNI, in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }

    let prepacked: Manifest['prepacked'];
    if (opts.prepack) {
      t = performance.now();
      // The graph this CPU will run, packed for it.
      const weights = u8 ? chooseInt8Weights('auto', await int8Kernels(await ort())).weights : undefined;
      const graph = weights === 'u8' ? U8_FILES.model : PREPARED_FILES.model;
      mkdirSync(join(tmp, PREPACKED_DIR));
      await savePrepacked(join(tmp, graph), join(tmp, PREPACKED_DIR, PREPARED_FILES.model), PREPARED_FILES.data);
      prepacked = { cpu: cpuFingerprint(), model: join(PREPACKED_DIR, PREPARED_FILES.model), weights };
      log(`  packed weights for this CPU saved in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }

    t = performance.now();
    const tokenizer = compileTokenizerJson(readFileSync(join(files.dir, 'tokenizer.json'), 'utf8'));
    writeTokenizerFile(join(tmp, PREPARED_FILES.tokenizer), tokenizer);
    log(`  tokenizer: ${tokenizer.meta.vocabSize} pieces compiled in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const manifest: Manifest = {
      format: PREPARED_FORMAT,
      createdAt: new Date().toISOString(),
      ortosVersion: ortosVersion(),
      onnxruntime: onnxruntimeVersion(),
      dtype: files.dtype,
      origin,
      config: files.config,
      rules: files.rules,
      io,
      sources: sourcesOf(files).map((name) => stamp(files.dir, name)),
      outputs: Object.fromEntries(
        [...Object.values(PREPARED_FILES), ...(embeddings ? [embeddings.file] : []), ...(u8 ? Object.values(u8) : []), ...(prepacked ? [prepacked.model, join(PREPACKED_DIR, PREPARED_FILES.data)] : [])]
          .map((name) => [name, statSync(join(tmp, name)).size]),
      ),
      quantization,
      embeddings,
      embeddingsKept,
      u8,
      prepacked,
    };
    writeFileSync(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');

    // The prepared model itself measures the ranges of its int8/uint8 vectors (a reranker has none).
    if (files.rules.task !== 'rerank') {
      t = performance.now();
      manifest.calibration = await calibrate(tmp);
      writeFileSync(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
      log(`  calibration: int8/uint8 ranges from ${manifest.calibration.vectors} vectors of the built-in sample in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    const old = `${tmp}.old`;
    rmSync(old, { recursive: true, force: true });
    try {
      renameSync(preparedDir, old);
    } catch {
      // nothing there yet
    }
    renameSync(tmp, preparedDir);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const ms = performance.now() - t0;
  log(`  prepared into ${preparedDir} in ${(ms / 1000).toFixed(1)} s`);
  return { dir: preparedDir, reused: false, reason, ms };
}
