import { ConfigError } from '../settings/errors.js';
import { helpOf, onOff, optionsOf, parseDuration, readAll, text, type Env } from '../settings/setting.js';
import { monthlyCost, type CostBreakdown, type UsageProfile } from '../cost/model.js';
import { PRICES_AS_OF, PRICES_SOURCE, SHARED_CPU_1X_MONTHLY } from '../cost/prices.js';
import { parse, type Options } from './args.js';

/**
 * The image's size without a model (the volume store's image) and each model's prepared int8
 * form (what the image store adds), uncompressed, in GB. Measured: the image by
 * `npm run test:container`, the prepared forms by `npm run bench:model-sizes` on fixtures with
 * the real shapes (bench/results). e5-large was not prepared here: its size is computed from its
 * shapes the same way (word embeddings int8, encoder weights int8 and uint8, tokenizer).
 */
export const IMAGE_WITHOUT_MODEL_GB = 0.456;
export const PREPARED_GB: Record<string, { gb: number; how: string }> = {
  small: { gb: (145 * 2 ** 20) / 1e9, how: 'measured' },
  base: { gb: (359 * 2 ** 20) / 1e9, how: 'measured' },
  large: { gb: (250002 * 1024 + 2 * 24 * (4 * 1024 * 1024 + 2 * 1024 * 4096) + 12.7e6) / 1e9, how: 'computed from its shapes' },
};
PREPARED_GB['large-instruct'] = PREPARED_GB.large;
export const MODEL_SIZES = Object.keys(PREPARED_GB);

/**
 * The default reranker's prepared int8 form (cross-encoder/mmarco-mMiniLMv2-L12-H384-v1's shape,
 * 146 MiB: word-embedding table 92 MiB, encoder int8 and uint8 weights, tokenizer), measured.
 * Serving it beside e5-base keeps the 512 MB Machine: peak RSS 448 MB with both under load
 * (bench/results/rerank-*.json).
 */
export const RERANKER_PREPARED_GB = 152_662_905 / 1e9;

/** The image with e5-base baked in (the default deploy). */
export const OUR_IMAGE_GB = Math.round((IMAGE_WITHOUT_MODEL_GB + PREPARED_GB.base.gb) * 100) / 100;

/** Memory each model's Machine gets in docs/DEPLOY.md (peak RSS measured by bench:model-sizes). */
export const MACHINE_FOR: Record<string, string> = { small: '512mb', base: '512mb', large: '1gb', 'large-instruct': '1gb' };

const COST_TABLE = {
  requestsPerDay: text('requests-per-day', undefined, 'N', 'requests per day', '200'),
  wakesPerDay: text('wakes-per-day', undefined, 'N', 'separate bursts per day, each waking the Machine', '10'),
  idle: text('idle', undefined, 'D', `time a Machine stays up after a burst (Fly's proxy looks for idle
Machines every few minutes; --idle-exit can be shorter)`, '5m'),
  wake: text('wake', undefined, 'D', 'wake time counted as running', '1s'),
  requestTime: text('request-time', undefined, 'D', 'model time per request', '30ms'),
  runningMinutes: text('running-minutes', undefined, 'N', 'give the running minutes per month directly instead'),
  machine: text('machine', undefined, 'SIZE', `shared-cpu-1x memory: ${Object.keys(SHARED_CPU_1X_MONTHLY).join(', ')} (default 512mb; 1gb for large
and for the volume store, whose first boot prepares the model)`),
  model: text('model', undefined, 'SIZE', `the multilingual-e5 model: ${MODEL_SIZES.join(', ')}; sets the image size and, unless
--machine is given, the memory`, 'base'),
  store: text('store', undefined, 'image|volume', 'model baked into the image or on a volume', 'image'),
  imageGb: text('image-gb', undefined, 'N', `uncompressed image size (default: ours with the model, ${OUR_IMAGE_GB} for base;
without it, ${IMAGE_WITHOUT_MODEL_GB}, for the volume store)`),
  volumeGb: text('volume-gb', undefined, 'N', 'volume size for --store volume (default 1; 2 with --rerank)'),
  rerank: onOff('rerank', undefined, `the default reranker served too (serve --rerank): its prepared form adds
${RERANKER_PREPARED_GB.toFixed(2)} GB to the image; the Machine stays 512 MB`),
};

export const COST_HELP = `usage: ortos-embed cost [options]

Estimates the monthly Fly.io bill of one scale-to-zero Machine for your profile (the options
below), from Fly's published prices (${PRICES_AS_OF}, ${PRICES_SOURCE}; kept in one table in
the code). Then, for comparison, "the note": the deploy note this project grew from (a bot's
embeddings service on Fly.io, which estimated $0.21 a month for 22 minutes of use:
docs/DEPLOY.md, "What changed"), as it was written and at today's prices, and ortos-embed for
that same usage.
Durations take a unit: 500ms, 30s, 5m, 1h.

Your profile:
${helpOf(COST_TABLE)}`;

function money(x: number): string {
  return `$${x.toFixed(x < 0.1 ? 4 : 2)}`;
}

function num(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

export interface CostRow {
  label: string;
  profile: string;
  cost: CostBreakdown;
}

export function costRows(user: UsageProfile): CostRow[] {
  const note: UsageProfile = {
    wakesPerDay: 0, requestsPerDay: 0, secondsPerRequest: 0, idleSeconds: 0, wakeSeconds: 0,
    runningMinutesPerMonth: 22, machine: '2gb', store: 'volume', imageGB: 0, volumeGB: 2,
  };
  // As written: $0.03/hour for the VM, $0.10/GB for the volume, no rootfs.
  const asWritten: CostBreakdown = { runningMinutes: 22, running: 0.03 * (22 / 60), rootfs: 0, volume: 0.2, total: 0.03 * (22 / 60) + 0.2 };
  return [
    { label: 'the note (its own estimate)', profile: '22 min/month, 2 GB VM at $0.03/h, 2 GB volume at $0.10', cost: asWritten },
    { label: 'the note, at today\'s prices', profile: '22 min/month, shared-cpu-1x 2 GB, 2 GB volume, 1 GB image', cost: monthlyCost({ ...note, imageGB: 1 }) },
    { label: 'ortos-embed, same usage', profile: `22 min/month, shared-cpu-1x 512 MB, model in a ${OUR_IMAGE_GB} GB image`, cost: monthlyCost({ ...note, machine: '512mb', store: 'image', imageGB: OUR_IMAGE_GB }) },
    {
      label: 'ortos-embed, your profile',
      profile: `${user.runningMinutesPerMonth !== undefined ? `${user.runningMinutesPerMonth} min/month` : `${user.requestsPerDay} req/day in ${user.wakesPerDay} bursts, up ${user.idleSeconds}s after each`}, ` +
        `shared-cpu-1x ${user.machine.toUpperCase().replace('MB', ' MB').replace('GB', ' GB')}, ${user.store === 'image' ? `model${user.rerank ? ' and reranker' : ''} in a ${user.imageGB} GB image` : `${user.imageGB} GB image, ${user.volumeGB} GB volume${user.rerank ? ' (model and reranker)' : ''}`}`,
      cost: monthlyCost(user),
    },
  ];
}

export const COST_OPTIONS = optionsOf(COST_TABLE) satisfies Options;

export async function costCommand(argv: string[], env: Env): Promise<number> {
  const { flags, helped } = parse(argv, COST_OPTIONS, 'cost', COST_HELP);
  if (helped) return 0;
  const f = readAll(COST_TABLE, flags, env);
  const model = f.model !== undefined ? f.model.replace(/^(intfloat\/)?multilingual-e5-/, '') : 'base';
  if (!MODEL_SIZES.includes(model)) throw new ConfigError(`--model must be one of ${MODEL_SIZES.join(', ')}, got "${String(f.model)}"`);
  const store = f.store ?? 'image';
  if (store !== 'image' && store !== 'volume') throw new ConfigError('--store must be image or volume');
  const machine = f.machine ?? (store === 'volume' ? '1gb' : MACHINE_FOR[model]);
  if (!(machine in SHARED_CPU_1X_MONTHLY)) throw new ConfigError(`--machine must be one of ${Object.keys(SHARED_CPU_1X_MONTHLY).join(', ')}`);
  const defaultImage = store === 'volume' ? IMAGE_WITHOUT_MODEL_GB : IMAGE_WITHOUT_MODEL_GB + PREPARED_GB[model].gb + (f.rerank ? RERANKER_PREPARED_GB : 0);
  const user: UsageProfile = {
    requestsPerDay: num('--requests-per-day', f.requestsPerDay, 200),
    wakesPerDay: num('--wakes-per-day', f.wakesPerDay, 10),
    idleSeconds: parseDuration('--idle', f.idle ?? '5m') / 1000,
    wakeSeconds: parseDuration('--wake', f.wake ?? '1s') / 1000,
    secondsPerRequest: parseDuration('--request-time', f.requestTime ?? '30ms') / 1000,
    runningMinutesPerMonth: f.runningMinutes !== undefined ? num('--running-minutes', f.runningMinutes, 0) : undefined,
    machine,
    store,
    imageGB: num('--image-gb', f.imageGb, Math.round(defaultImage * 100) / 100),
    volumeGB: num('--volume-gb', f.volumeGb, f.rerank ? 2 : 1),
    rerank: f.rerank,
  };
  const rows = costRows(user);
  const yours = rows[rows.length - 1];
  console.log(`Your profile (${yours.profile}): ${money(yours.cost.total)} a month on Fly.io ` +
    `(running ${money(yours.cost.running)} for ${yours.cost.runningMinutes.toFixed(0)} min, stopped rootfs ${money(yours.cost.rootfs)}, volume ${money(yours.cost.volume)}; prices of ${PRICES_AS_OF}, ${PRICES_SOURCE}).`);
  console.log('\nFor comparison, "the note": the deploy note of the bot this project grew from, which estimated $0.21/month (docs/DEPLOY.md, "What changed").\n');
  console.log('| scenario | usage | running min | running | stopped rootfs | volume | total |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of [yours, ...rows.slice(0, -1)]) {
    const c = r.cost;
    console.log(`| ${r.label} | ${r.profile} | ${c.runningMinutes.toFixed(0)} | ${money(c.running)} | ${money(c.rootfs)} | ${money(c.volume)} | **${money(c.total)}** |`);
  }
  console.log(`
Why the note's $0.21 is off: a volume costs $0.15/GB-month, not $0.10 (+$0.10 for 2 GB); the
stopped Machine's root file system is billed too ($0.15/GB-month of image), which the note left
out; and running time is cheaper than it assumed (shared-cpu-1x 2 GB is about $0.015/h, not
$0.03). Storage, not running time, is what a scale-to-zero Machine pays for: a smaller image and
no volume matter more than a smaller VM.`);
  return 0;
}
