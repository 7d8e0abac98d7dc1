// Real multilingual text for the tokenizer's parity test: the translated strings of the
// gettext catalogs (.mo) that Debian installs under /usr/share/locale.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../fixture-models/random.js';
import { FIXTURES } from './fixtures.js';

export const LOCALE_ROOT = '/usr/share/locale';

/** Translated strings of one .mo file (plural forms split apart), or [] if it is not UTF-8. */
export function readMo(bytes: Buffer): string[] {
  if (bytes.length < 28) return [];
  const magic = bytes.readUInt32LE(0);
  const le = magic === 0x950412de;
  if (!le && magic !== 0xde120495) return [];
  const u32 = (at: number): number => (le ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const count = u32(8);
  const origTable = u32(12);
  const transTable = u32(16);
  const out: string[] = [];
  let utf8 = true;
  for (let i = 0; i < count; i++) {
    const oLen = u32(origTable + i * 8);
    const tLen = u32(transTable + i * 8);
    const tOff = u32(transTable + i * 8 + 4);
    if (tOff + tLen > bytes.length) break;
    const text = bytes.toString('utf8', tOff, tOff + tLen);
    if (oLen === 0) {
      // The header entry names the charset.
      const m = /charset=([^\s;]+)/i.exec(text);
      utf8 = m === null || /^utf-?8$/i.test(m[1]);
      if (!utf8) return [];
      continue;
    }
    for (const form of text.split('\0')) if (form.length > 0) out.push(form);
  }
  return out;
}

/** locale → its translated strings, deduplicated; empty when the catalogs are not installed. */
export function readCatalogs(root = LOCALE_ROOT): Map<string, string[]> {
  const byLocale = new Map<string, string[]>();
  let locales: string[];
  try {
    locales = readdirSync(root);
  } catch {
    return byLocale;
  }
  for (const locale of locales.sort()) {
    const dir = join(root, locale, 'LC_MESSAGES');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.mo')).sort();
    } catch {
      continue;
    }
    const seen = new Set<string>();
    for (const f of files) {
      for (const s of readMo(readFileSync(join(dir, f)))) seen.add(s);
    }
    if (seen.size > 0) byLocale.set(locale, [...seen]);
  }
  return byLocale;
}

/**
 * Up to `total` strings spread over all locales: each locale gets an equal share (or all
 * it has, if fewer), the rest is filled from the larger ones.
 */
export function sampleAcrossLocales(byLocale: Map<string, string[]>, total: number, seed: number): string[] {
  const rand = seededRandom(seed);
  const pools = [...byLocale.values()].map((list) => {
    const copy = list.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  });
  const out: string[] = [];
  const taken = new Array<number>(pools.length).fill(0);
  let progress = true;
  while (out.length < total && progress) {
    progress = false;
    for (let p = 0; p < pools.length && out.length < total; p++) {
      if (taken[p] < pools[p].length) {
        out.push(pools[p][taken[p]++]);
        progress = true;
      }
    }
  }
  return out;
}

/**
 * `count` real multilingual strings for benchmarks: a seeded sample across every installed
 * catalog, or, where no catalogs are installed, the committed parity sample.
 */
export function multilingualSample(count: number, seed: number): string[] {
  const catalogs = readCatalogs();
  if (catalogs.size > 0) return sampleAcrossLocales(catalogs, count, seed);
  const committed = JSON.parse(readFileSync(join(FIXTURES, 'parity-sample.json'), 'utf8')) as { strings: string[] };
  return committed.strings.slice(0, count);
}

/**
 * `count` passages whose lengths are spread evenly over [minChars, maxChars]: consecutive
 * strings of one language joined with spaces until the drawn length is reached, then cut there.
 * RAG chunks look like this (a paragraph to a page), unlike single UI strings.
 */
export function multilingualPassages(count: number, minChars: number, maxChars: number, seed: number): string[] {
  const pool = multilingualSample(Math.max(count * 8, 2000), seed);
  const rand = seededRandom(seed + 1);
  const out: string[] = [];
  let k = 0;
  for (let i = 0; i < count; i++) {
    const want = minChars + Math.floor(rand() * (maxChars - minChars + 1));
    let text = '';
    while (text.length < want) {
      text += (text ? ' ' : '') + pool[k % pool.length];
      k++;
    }
    out.push([...text].slice(0, want).join(''));
  }
  return out;
}
