// Tokenizer benchmark: load time, memory and throughput of ortos-embed's compiled tokenizer
// next to the Rust binding (`tokenizers`) and `@huggingface/tokenizers` (pure JS, what
// transformers.js uses), measured in the same run on the same texts, one process each,
// pinned to one core when taskset exists.
//
//   node build/bench/src/tokenizer.js [--texts N] [--runs N]

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledFixturePath, FIXTURE_TOKENIZER_JSON, FIXTURES, PROJECT_ROOT } from '../../test/helpers/fixtures.js';
import { multilingualSample } from '../../test/helpers/gettext.js';
import { dropCaches, hasTaskset, machineInfo, writeResult } from './machine.js';

type Impl = 'ortos-embed' | 'rust tokenizers (napi)' | '@huggingface/tokenizers';
const IMPLS: Impl[] = ['ortos-embed', 'rust tokenizers (napi)', '@huggingface/tokenizers'];

interface ChildResult {
  loadMs: number;
  rssDeltaMB: number;
  tokens: number;
  encodeMs: number;
}

async function child(impl: Impl, textsFile: string, compiled: string): Promise<ChildResult> {
  const texts = JSON.parse(readFileSync(textsFile, 'utf8')) as string[];
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let encode: (s: string) => number;
  if (impl === 'ortos-embed') {
    const { readTokenizerFile } = await import('../../src/tokenizer/binary-file.js');
    const { Tokenizer } = await import('../../src/tokenizer/tokenizer.js');
    const tok = new Tokenizer(readTokenizerFile(compiled).data);
    encode = (s) => tok.encode(s).ids.length;
  } else if (impl === 'rust tokenizers (napi)') {
    const rust = createRequire(import.meta.url)('tokenizers') as { Tokenizer: { fromFile(p: string): { encode(s: string): Promise<{ getIds(): number[] }> } } };
    const tok = rust.Tokenizer.fromFile(FIXTURE_TOKENIZER_JSON);
    // The binding is async only; measured per call as a server would use it.
    encode = () => 0;
    const loadMs = performance.now() - t0;
    const rssDeltaMB = (process.memoryUsage().rss - rss0) / 2 ** 20;
    let tokens = 0;
    const t1 = performance.now();
    for (const s of texts) tokens += (await tok.encode(s)).getIds().length;
    return { loadMs, rssDeltaMB, tokens, encodeMs: performance.now() - t1 };
  } else {
    const hf = (await import('@huggingface/tokenizers')) as unknown as { Tokenizer: new (json: object, config: object) => { encode(s: string): { ids: number[] } } };
    const json = JSON.parse(readFileSync(FIXTURE_TOKENIZER_JSON, 'utf8')) as object;
    const config = JSON.parse(readFileSync(join(FIXTURES, 'xlmr-synthetic', 'tokenizer_config.json'), 'utf8')) as object;
    const tok = new hf.Tokenizer(json, config);
    encode = (s) => tok.encode(s).ids.length;
  }
  const loadMs = performance.now() - t0;
  const rssDeltaMB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  let tokens = 0;
  const t1 = performance.now();
  for (const s of texts) tokens += encode(s);
  return { loadMs, rssDeltaMB, tokens, encodeMs: performance.now() - t1 };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    process.stdout.write(JSON.stringify(await child(args[1] as Impl, args[2], args[3])));
    return;
  }
  const opt = (name: string, dflt: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const nTexts = opt('--texts', 20000);
  const runs = opt('--runs', 3);
  const compiled = compiledFixturePath();
  const texts = multilingualSample(nTexts, 99);
  const textsFile = join(PROJECT_ROOT, '.cache', 'bench-texts.json');
  writeFileSync(textsFile, JSON.stringify(texts));
  const pin = hasTaskset();
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, { loadMs: number; rssDeltaMB: number; tokensPerSec: number; coldLoadMs: number | null }> = {};
  for (const impl of IMPLS) {
    const warm: ChildResult[] = [];
    const cold: number[] = [];
    for (let r = 0; r < runs; r++) {
      const run = (): ChildResult => {
        const cmd = pin ? ['taskset', '-c', '0', process.execPath] : [process.execPath];
        const out = execFileSync(cmd[0], [...cmd.slice(1), self, '--child', impl, textsFile, compiled], { encoding: 'utf8', maxBuffer: 1 << 20 });
        return JSON.parse(out) as ChildResult;
      };
      if (dropCaches()) cold.push(run().loadMs);
      warm.push(run());
    }
    results[impl] = {
      loadMs: median(warm.map((w) => w.loadMs)),
      coldLoadMs: cold.length > 0 ? median(cold) : null,
      rssDeltaMB: median(warm.map((w) => w.rssDeltaMB)),
      tokensPerSec: median(warm.map((w) => (w.tokens / w.encodeMs) * 1000)),
    };
  }
  const machine = machineInfo();
  console.log(`tokenizer benchmark: ${texts.length} gettext strings, ${runs} runs each (median), ${pin ? 'pinned to one core' : 'NOT pinned (no taskset)'}`);
  console.log(`cold page cache: ${results['ortos-embed'].coldLoadMs === null ? 'not available (needs root)' : 'dropped before each cold run'}`);
  console.log('| implementation | load, warm cache (ms) | load, cold cache (ms) | RSS added by load (MB) | tokens/s |');
  console.log('|---|---|---|---|---|');
  for (const [impl, r] of Object.entries(results)) {
    console.log(`| ${impl} | ${r.loadMs.toFixed(1)} | ${r.coldLoadMs === null ? 'n/a' : r.coldLoadMs.toFixed(1)} | ${r.rssDeltaMB.toFixed(1)} | ${Math.round(r.tokensPerSec)} |`);
  }
  const file = writeResult('tokenizer', machine, { machine, texts: texts.length, runs, pinned: pin, results });
  console.log(`written ${file}`);
}

await main();
