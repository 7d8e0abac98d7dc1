// docs/DEPLOY.md and its Russian translation must give a reader the same steps and the same
// figures: every command (code blocks, comments aside, which are translated) and every number
// in the text, in the same order.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/fixtures.js';

const read = (name: string): string => readFileSync(join(PROJECT_ROOT, 'docs', name), 'utf8');

/** Code blocks with comments and trailing blanks removed (comments are prose, translated). */
export function commands(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/```\w*\n([\s\S]*?)```/g)) {
    const lines = m[1].split('\n').map((l) => l.replace(/(^|\s)#.*$/, '').trimEnd()).filter((l) => l.trim());
    out.push(lines.join('\n'));
  }
  return out;
}

/** Every number in the prose and tables (outside code blocks), as written, decimal comma read as a point. */
export function figures(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, ' ').replace(/\]\([^)]*\)/g, ']');
  return [...prose.matchAll(/\d+(?:[.,]\d+)?/g)].map((m) => m[0].replace(',', '.'));
}

test('DEPLOY.md and DEPLOY.ru.md carry the same commands', () => {
  const en = commands(read('DEPLOY.md'));
  const ru = commands(read('DEPLOY.ru.md'));
  assert.ok(en.length >= 5, 'the English page has its command blocks');
  assert.deepEqual(ru, en);
});

test('DEPLOY.md and DEPLOY.ru.md carry the same figures in the same order', () => {
  const en = figures(read('DEPLOY.md'));
  const ru = figures(read('DEPLOY.ru.md'));
  assert.ok(en.length >= 20, 'the English page has figures');
  for (let i = 0; i < Math.max(en.length, ru.length); i++) {
    if (en[i] !== ru[i]) {
      assert.fail(`figure ${i + 1} differs: English "${en[i]}" (after ${en.slice(Math.max(0, i - 4), i).join(', ')}), Russian "${ru[i]}" (after ${ru.slice(Math.max(0, i - 4), i).join(', ')})`);
    }
  }
});
