// The Metaspace options the fixture does not use (prepend_scheme first/never, split false,
// the older add_prefix_space form), each checked against the reference on a variant of the
// fixture's tokenizer.json.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { edgeCases } from '../helpers/edge-cases.js';
import { FIXTURES, FIXTURE_TOKENIZER_JSON } from '../helpers/fixtures.js';
import { Oracle } from '../helpers/oracle.js';
import { compileTokenizerJson } from '../../src/tokenizer/compile.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';

const dir = mkdtempSync(join(tmpdir(), 'ortos-tok-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const base = JSON.parse(readFileSync(FIXTURE_TOKENIZER_JSON, 'utf8')) as { pre_tokenizer: Record<string, unknown> };
const sample = (JSON.parse(readFileSync(join(FIXTURES, 'parity-sample.json'), 'utf8')) as { strings: string[] }).strings.slice(0, 800);
const texts = [...edgeCases().filter((s) => s.length < 1000), ...sample, 'a <mask>b', '<s>x', 'x<s> y'];

const variants: Record<string, Record<string, unknown>> = {
  'prepend_scheme first': { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
  'prepend_scheme never': { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true },
  'split false': { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false },
  'add_prefix_space (older form)': { type: 'Metaspace', replacement: '▁', add_prefix_space: true },
};

for (const [name, pre] of Object.entries(variants)) {
  test(`Metaspace ${name} matches the reference`, async () => {
    const json = JSON.stringify({ ...base, pre_tokenizer: pre });
    const path = join(dir, `${name.replace(/\W+/g, '_')}.json`);
    writeFileSync(path, json);
    const mine = new Tokenizer(compileTokenizerJson(json));
    const want = await new Oracle(path).encodeAll(texts);
    let bad = 0;
    texts.forEach((s, i) => {
      const got = mine.encode(s);
      if (JSON.stringify(got.ids) !== JSON.stringify(want[i].ids) || JSON.stringify(got.offsets) !== JSON.stringify(want[i].offsets)) {
        if (bad++ < 3) console.log(name, JSON.stringify(s), want[i].ids.join(','), '|', got.ids.join(','));
      }
    });
    assert.equal(bad, 0);
  });
}
