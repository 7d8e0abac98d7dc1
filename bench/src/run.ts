// `npm run bench`: ortos-embed and its peers on the same e5-base-shaped model files and the
// same texts, in one run, pinned to one core: wake (cold page cache when root), memory,
// bytes read, throughput. Peers run in-process (no HTTP); ortos-embed is measured through
// its HTTP API, as users call it; `--vs OTHER/dist/bin/main.js` measures another build of it
// the same way in the same run. Writes bench/results/bench-<date>.json.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFixtureModel } from '../../test/fixture-models/generate.js';
import { CACHE_DIR, PROJECT_ROOT } from '../../test/helpers/fixtures.js';
import { multilingualPassages, multilingualSample } from '../../test/helpers/gettext.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { spawnServe } from '../../test/helpers/serve-process.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { readTokenizerFile } from '../../src/tokenizer/binary-file.js';
import { dropCaches, hasTaskset, machineInfo, writeResult } from './machine.js';
import { hwm, median, ortosLoad } from './http-load.js';
import { wakeOnce, type WakeRun } from './wake.js';

const PIN = hasTaskset() ? ['taskset', '-c', '0'] : [];

function view(name: string, source: string, onnxAs: string, onnxFrom: string, olderMetaspace = false): string {
  const dir = join(CACHE_DIR, 'peers', name);
  if (existsSync(join(dir, onnxAs))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'tokenizer_config.json']) symlinkSync(join(source, f), join(dir, f));
  if (olderMetaspace) {
    // fastembed's bundled tokenizer library reads only the older Metaspace form; this one is
    // equivalent (prepend always, split), as the parity test of that form shows.
    const json = JSON.parse(readFileSync(join(source, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    const older = { type: 'Metaspace', replacement: '\u2581', add_prefix_space: true };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...json, pre_tokenizer: older, decoder: older }));
  } else {
    symlinkSync(join(source, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  }
  writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify({ bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', sep_token: '</s>', pad_token: '<pad>', cls_token: '<s>', mask_token: { content: '<mask>', lstrip: true, normalized: false, rstrip: false, single_word: false } }));
  symlinkSync(onnxFrom, join(dir, onnxAs));
  return dir;
}

function peerRun(impl: string, dir: string, textsFile: string, cold: boolean, limit?: number): Promise<Record<string, unknown> & { coldCache: boolean }> {
  const coldCache = cold ? dropCaches() : false;
  return new Promise((resolve, reject) => {
    const args = [...PIN, process.execPath, join(PROJECT_ROOT, 'build', 'bench', 'src', 'peer-child.js'), impl, dir, textsFile, ...(limit ? [String(limit)] : [])];
    const child = spawn(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve({ ...(JSON.parse(out) as Record<string, unknown>), coldCache }) : reject(new Error(`${impl} exited ${code}`))));
  });
}

/** No embedding cache, on a build that has one (an older build given with --vs may not know the flag). */
const cacheOff = (bin: string | undefined): string[] => (bin === undefined ? ['--cache-memory-mb', '0'] : []);

/** One build's serving figures: memory after wake, after 200 queries, after batches; throughput. */
async function ortosServing(bin: string | undefined, modelDir: string, texts: string[]) {
  // The model's own throughput: the same texts go through every grouping, which a cache would answer.
  const s = await spawnServe(['--model-dir', modelDir, '--threads', '1', '--max-queue-wait', '600s', ...cacheOff(bin)], {}, PIN, bin);
  await s.waitFor('model ready', 60_000);
  await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"query: привет"}' });
  const pid = s.child.pid as number;
  const afterWake = hwm(pid);
  for (let i = 0; i < 200; i++) await (await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: `query: вопрос номер ${i}` }) })).arrayBuffer();
  const after200 = hwm(pid);
  const grouping: Record<string, Awaited<ReturnType<typeof ortosLoad>>> = {};
  for (const per of [1, 32]) for (const c of [1, 8]) grouping[`${per}x${c}`] = await ortosLoad(s.url, texts, per, c);
  const extra = Array.from({ length: 640 }, (_, i) => texts[i % texts.length]);
  await ortosLoad(s.url, extra, 32, 1);
  const afterBatches = hwm(pid);
  // The load the memory target is stated for: 640 passages of 50–2000 characters, 32 per request.
  const passages = multilingualPassages(640, 50, 2000, 7).map((t) => `passage: ${t}`);
  const longLoad = await ortosLoad(s.url, passages, 32, 1);
  const afterPassages = hwm(pid);
  const int8Auto = ((await (await fetch(`${s.url}/info`)).json()) as { int8: unknown }).int8;
  s.child.kill('SIGTERM');
  await s.exited;
  return { afterWake, after200, afterBatches, afterPassages, longLoad, grouping, int8Auto };
}

async function main(): Promise<void> {
  if (!existsSync(join(PROJECT_ROOT, 'bench', 'peers', 'node_modules', '@huggingface', 'transformers'))) {
    console.log('installing the peer libraries into bench/peers …');
    execFileSync('npm', ['--prefix', join(PROJECT_ROOT, 'bench', 'peers'), 'install', '--ignore-scripts', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  }
  const machine = machineInfo();
  const { modelDir, preparedDir } = await preparedFixture('e5-base', 'int8');
  const onnx = join(modelDir, 'onnx', 'model_qint8_avx512_vnni.onnx');
  const ttiDir = join(CACHE_DIR, 'models', 'xlmr-e5-base-int8-tti');
  if (!existsSync(join(ttiDir, 'onnx', 'model_qint8_avx512_vnni.onnx'))) writeFixtureModel(ttiDir, 'e5-base', 'int8', undefined, { tokenTypeInput: true });
  const tfDir = view('transformers-e5-base', modelDir, 'onnx/model_quantized.onnx', onnx);
  const feDir = view('fastembed-e5-base', modelDir, 'onnx/model_tti.onnx', join(ttiDir, 'onnx', 'model_qint8_avx512_vnni.onnx'), true);

  const raw = multilingualSample(256, 5);
  const texts = raw.map((s) => `passage: ${s}`);
  const textsFile = join(CACHE_DIR, 'bench-passages.json');
  writeFileSync(textsFile, JSON.stringify(texts));
  const tok = new Tokenizer(readTokenizerFile(join(preparedDir, 'tokenizer.bin')).data);
  const tokensOf = (n: number): number => texts.slice(0, n).reduce((a, t) => a + tok.encode(t, { maxLength: 512 }).ids.length, 0);
  const totalTokens = tokensOf(texts.length);

  const other = process.argv.includes('--vs') ? process.argv[process.argv.indexOf('--vs') + 1] : undefined;
  const builds: Array<{ name: string; bin: string | undefined }> = [{ name: 'ortos-embed (HTTP)', bin: undefined }];
  if (other !== undefined) builds.push({ name: `ortos-embed, other build (${other})`, bin: other });
  // Wake runs alternate between the builds, so the machine's drift falls on both alike.
  console.log('ortos-embed: wake …');
  const wakes = builds.map(() => ({ cold: [] as WakeRun[], warm: [] as WakeRun[] }));
  for (const b of builds) await wakeOnce(modelDir, 18181, false, [], b.bin);
  for (let i = 0; i < 3; i++) for (const [k, b] of builds.entries()) wakes[k].cold.push(await wakeOnce(modelDir, 18181, true, [], b.bin));
  for (let i = 0; i < 3; i++) for (const [k, b] of builds.entries()) wakes[k].warm.push(await wakeOnce(modelDir, 18181, false, [], b.bin));
  const measured = [];
  for (const [k, b] of builds.entries()) {
    console.log(`${b.name}: memory and throughput over HTTP …`);
    measured.push({ ...(await ortosServing(b.bin, modelDir, texts)), wakeCold: wakes[k].cold, wakeWarm: wakes[k].warm });
  }
  const { wakeCold, wakeWarm, afterWake, after200, afterBatches, afterPassages, longLoad, int8Auto, grouping: ortosGrouping } = measured[0];

  // Both int8 paths on this CPU: int8 weights (u8×s8 kernels: exact with VNNI, saturating
  // without) and uint8 weights (u8×u8: exact everywhere), what the exact path costs here.
  console.log('ortos-embed: both int8 paths …');
  const int8Paths: Record<string, { single: Awaited<ReturnType<typeof ortosLoad>>; per32: Awaited<ReturnType<typeof ortosLoad>>; tokensPerSec32: number; info: unknown }> = {};
  for (const weights of ['s8', 'u8'] as const) {
    const p = await spawnServe(['--model-dir', modelDir, '--threads', '1', '--max-queue-wait', '600s', '--int8-weights', weights, '--cache-memory-mb', '0'], {}, PIN);
    await p.waitFor('model ready', 60_000);
    const info = ((await (await fetch(`${p.url}/info`)).json()) as { int8: unknown }).int8;
    const single = await ortosLoad(p.url, texts.slice(0, 64), 1, 1);
    const per32 = await ortosLoad(p.url, texts, 32, 1);
    int8Paths[weights] = { single, per32, tokensPerSec32: per32.textsPerSec * (totalTokens / texts.length), info };
    p.child.kill('SIGTERM');
    await p.exited;
  }

  console.log('transformers.js …');
  const tf = [await peerRun('transformers', tfDir, textsFile, true), await peerRun('transformers', tfDir, textsFile, false)];
  console.log('fastembed (first 64 texts: it pads every input to 512 tokens) …');
  const fe = [await peerRun('fastembed', feDir, textsFile, true, 64), await peerRun('fastembed', feDir, textsFile, false, 64)];

  type PeerOut = { texts: number; wake: { firstEmbeddingMs: number; hwmMB: number; readMiB: number }; memory: Record<string, number>; grouping: Record<string, { textsPerSec: number; p50: number; p95: number; p99: number }>; coldCache: boolean };
  const rows: Array<Record<string, string>> = [];
  const fmt = (x: number | undefined, d = 0): string => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  const tps = (textsPerSec: number, n: number): number => textsPerSec * (tokensOf(n) / n);
  for (const [k, m] of measured.entries()) {
    rows.push({
      name: builds[k].name,
      wakeCold: fmt(median(m.wakeCold.map((w) => w.firstResponseMs))), wakeWarm: fmt(median(m.wakeWarm.map((w) => w.firstResponseMs))),
      read: fmt(median(m.wakeCold.map((w) => w.readMiB ?? NaN))), memWake: fmt(m.afterWake), mem200: fmt(m.after200), memBatch: fmt(m.afterBatches),
      t1: fmt(tps(m.grouping['1x1'].textsPerSec, texts.length)), t32: fmt(tps(m.grouping['32x1'].textsPerSec, texts.length)),
      t32c8: fmt(tps(m.grouping['32x8'].textsPerSec, texts.length)), p50single: fmt(m.grouping['1x1'].p50, 1),
    });
  }
  for (const [name, runs] of [['transformers.js 4.3 q8 (in-process)', tf], ['fastembed 2.1 (in-process)', fe]] as const) {
    const [cold, warm] = runs as unknown as PeerOut[];
    rows.push({
      name,
      wakeCold: fmt(cold.wake.firstEmbeddingMs), wakeWarm: fmt(warm.wake.firstEmbeddingMs), read: fmt(cold.wake.readMiB),
      memWake: fmt(warm.memory.afterWakeMB), mem200: fmt(warm.memory.after200SinglesMB), memBatch: fmt(warm.memory.afterBatchesMB),
      t1: fmt(tps(warm.grouping['1'].textsPerSec, warm.texts)), t32: fmt(tps(warm.grouping['32'].textsPerSec, warm.texts)), t32c8: 'n/a', p50single: fmt(warm.grouping['1'].p50, 1),
    });
  }
  console.log(`\nbench: e5-base-shaped int8 (random weights), ${texts.length} gettext passages (${totalTokens} tokens), ${PIN.length ? 'one core (taskset -c 0)' : 'NOT pinned'}, ` +
    `cold page cache: ${wakeCold[0].cold ? 'yes' : 'NOT available (needs root): "cold" is warm'}; ${machine.cpu}, ${machine.flags.join(' ')}, node ${machine.node}; ` +
    'peers in-process, their onnxruntime given the threads of the pinned core count');
  console.log('| | wake cold (ms) | wake warm (ms) | read before 1st answer (MiB) | peak RSS after wake / 200 singles / batches (MB) | tokens/s, 1 per call | 32 per call | 32 per call × 8 concurrent | p50, one query (ms) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.wakeCold} | ${r.wakeWarm} | ${r.read} | ${r.memWake} / ${r.mem200} / ${r.memBatch} | ${r.t1} | ${r.t32} | ${r.t32c8} | ${r.p50single} |`);
  for (const [k, m] of measured.entries()) console.log(`\n${builds[k].name}: peak RSS after 640 passages of 50–2000 characters, 32 per request: ${m.afterPassages.toFixed(0)} MB (${m.longLoad.textsPerSec.toFixed(1)} passages/s)`);
  console.log(`\nint8 path chosen here: ${JSON.stringify(int8Auto)}`);
  console.log('| int8 weights | kernels | exact here | one query p50 (ms) | tokens/s, 32 per call |');
  console.log('|---|---|---|---|---|');
  for (const [w, r] of Object.entries(int8Paths)) {
    const info = r.info as { kernels: string; exact: boolean };
    console.log(`| ${w} | ${info.kernels} | ${info.exact ? 'yes' : 'no (saturates)'} | ${r.single.p50.toFixed(1)} | ${r.tokensPerSec32.toFixed(0)} |`);
  }
  const file = writeResult('bench', machine, { machine, texts: texts.length, tokens: totalTokens, pinned: PIN.length > 0, ortos: { wakeCold, wakeWarm, memory: { afterWake, after200, afterBatches, afterPassages640: afterPassages, passagesPerSec: longLoad.textsPerSec }, grouping: ortosGrouping, int8: int8Auto, int8Paths }, transformers: tf, fastembed: fe, other: other === undefined ? null : { bin: other, ...measured[1] }, table: rows });
  console.log(`written ${file}`);
}

await main();
