import { cpuInfo } from '../cpu.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { EmbeddingService } from '../service/embedding-service.js';
import { ensurePrepared } from '../prepare/ensure.js';
import { ENGINE_HELP, ENGINE_TABLE, engineConfig, type EngineConfigOptions } from '../settings/engine.js';
import { HUB_TABLE, MODEL_HELP, MODEL_TABLE, modelConfig, type ModelConfigOptions } from '../settings/model.js';
import { ConfigError } from '../settings/errors.js';
import { optionsOf, type Env, type Flags } from '../settings/setting.js';
import { parse, type Options } from './args.js';
import { log, RANDOM_WEIGHTS } from './log.js';
import { cosine } from '../engine/cosine.js';
import { CALIBRATION_TEXTS } from '../prepare/calibration-texts.js';
import { compactLoss, type CompactLoss } from '../vectors/compact-report.js';

export const VERIFY_HELP = `usage: ortos-embed verify [options]

Embeds a built-in multilingual sample twice and prints the minimum and mean cosine between
the two vectors of each text: the loss from quantization, measured on this CPU, and which
int8 path runs here (on x86 without VNNI, u8×s8 kernels saturate, so the graph with uint8
weights runs instead: exact, and slower). With --dtype int8 (the default) it compares int8
against fp32 and needs both ONNX exports (about 1.4 GB from the hub); with --dtype q4, q4
against int8 (only the int8 export is needed). fp32 has nothing to be compared against.

${MODEL_HELP}

${ENGINE_HELP}`;

export const VERIFY_SAMPLE: readonly string[] = [
  'query: how much protein should a female eat',
  'passage: As a general guideline, the CDC recommends 46 grams of protein per day for women aged 19 to 70.',
  'query: сколько стоит доставка в Новосибирск',
  'passage: Доставка по России занимает от двух до семи рабочих дней в зависимости от региона.',
  'query: wie spät ist es in Tokio',
  'passage: Le chat dort sur le canapé pendant que la pluie tombe dehors.',
  'query: ¿dónde está la estación de tren más cercana?',
  'passage: 東京は日本の首都であり、世界最大の都市圏の一つです。',
  'query: 如何在家里种植西红柿',
  'passage: 한국어는 한글이라는 고유한 문자 체계를 사용합니다.',
  'query: كيف أتعلم البرمجة بسرعة',
  'passage: שלום, מה שלומך היום?',
  'query: भारत की राजधानी क्या है',
  'passage: Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.',
  'query: İstanbul hangi yılda fethedildi',
  'passage: Việt Nam có nhiều món ăn nổi tiếng như phở và bánh mì.',
  'query: ทำอย่างไรให้นอนหลับง่ายขึ้น',
  'passage: Kiswahili ni lugha inayozungumzwa katika Afrika Mashariki.',
  'query: Jak dojechać na lotnisko Chopina?',
  'passage: Мова — це душа народу, і її треба берегти.',
];

export const VERIFY_OPTIONS = optionsOf(MODEL_TABLE, HUB_TABLE, ENGINE_TABLE) satisfies Options;

/** Everything verify reads from its flags and the environment, validated once. */
export function verifySettings(flags: Flags, env: Env): { base: ModelConfigOptions; engine: EngineConfigOptions } {
  const base = modelConfig(flags, env);
  if (base.dtype === 'fp32') throw new ConfigError('verify --dtype takes int8 (int8 against fp32, the default) or q4 (q4 against int8); fp32 is the reference, not a form to check');
  return { base, engine: engineConfig(flags, env) };
}

export async function verifyCommand(argv: string[], env: Env): Promise<number> {
  const { flags, helped } = parse(argv, VERIFY_OPTIONS, 'verify', VERIFY_HELP);
  if (helped) return 0;
  const { base, engine } = verifySettings(flags, env);
  const [tried, reference] = base.dtype === 'q4' ? (['q4', 'int8'] as const) : (['int8', 'fp32'] as const);
  const vectors: Record<string, Float32Array[]> = {};
  let int8Path = '';
  let compact: CompactLoss[] = [];
  let calibrated = 0;
  for (const dtype of [tried, reference]) {
    const ready = await ensurePrepared({ ...base, dtype, preparedDir: undefined }, log);
    const pipeline = await Pipeline.load(ready.prepared.dir, engine);
    if (pipeline.manifest.config.randomWeights && dtype === tried) log(RANDOM_WEIGHTS);
    if (pipeline.int8) int8Path = `int8 path: ${pipeline.int8.weights === 'u8' ? 'uint8 weights, u8×u8 kernels' : 'int8 weights, u8×s8 kernels'} (${pipeline.int8.reason})`;
    const door = EmbeddingService.over(pipeline);
    vectors[dtype] = (await door.embed({ texts: VERIFY_SAMPLE }, { normalize: true, truncate: true, direction: 'right' })).vectors;
    const quantizer = pipeline.text.quantizer;
    if (dtype === tried && quantizer !== undefined) {
      // Compact types against float on this model: the sample's queries search its passages
      // and the calibration texts as passages (the ranges were measured on the latter).
      const extra = (await door.embed({ texts: CALIBRATION_TEXTS }, { prompt: 'passage' in pipeline.rules.prompts ? 'passage' : undefined, normalize: true, truncate: true, direction: 'right' })).vectors;
      const queries = vectors[dtype].filter((_, i) => i % 2 === 0);
      const corpus = [...vectors[dtype].filter((_, i) => i % 2 === 1), ...extra];
      compact = compactLoss(queries, corpus, quantizer);
      calibrated = pipeline.manifest.calibration?.vectors ?? 0;
    }
    await pipeline.close();
  }
  const cos = VERIFY_SAMPLE.map((_, i) => cosine(vectors[tried][i], vectors[reference][i]));
  const min = Math.min(...cos);
  const mean = cos.reduce((a, b) => a + b, 0) / cos.length;
  const cpu = cpuInfo();
  console.log(`${tried} vs ${reference} on ${VERIFY_SAMPLE.length} multilingual texts: min cosine ${min.toFixed(6)}, mean ${mean.toFixed(6)}`);
  console.log(`cpu: ${cpu.model}, ${cpu.cores} cores, flags: ${cpu.flags.join(' ') || 'none of avx2/avx512/vnni'}`);
  if (int8Path) console.log(int8Path);
  if (compact.length > 0) {
    console.log(`compact vectors of ${tried} against its float vectors (${VERIFY_SAMPLE.length / 2} queries searching ${VERIFY_SAMPLE.length / 2 + CALIBRATION_TEXTS.length} passages; int8/uint8 ranges from ${calibrated} calibration vectors):`);
    for (const c of compact) console.log(`  ${c.dtype.padEnd(8)} top-10 overlap ${(c.topOverlap * 100).toFixed(1)}%, mean cosine ${c.cosine.toFixed(6)}`);
  }
  return 0;
}
