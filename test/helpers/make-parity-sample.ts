// Writes test/fixtures/parity-sample.json: strings sampled from the gettext catalogs with
// the reference's ids, so the parity test has real multilingual text on machines without them.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, FIXTURE_TOKENIZER_JSON } from './fixtures.js';
import { readCatalogs, sampleAcrossLocales } from './gettext.js';
import { Oracle } from './oracle.js';

const catalogs = readCatalogs();
if (catalogs.size === 0) {
  console.error('no gettext catalogs under /usr/share/locale: nothing to sample');
  process.exit(1);
}
const strings = sampleAcrossLocales(catalogs, 4000, 7).filter((s) => s.length <= 400);
const ids = (await new Oracle(FIXTURE_TOKENIZER_JSON).encodeAll(strings)).map((r) => r.ids);
writeFileSync(join(FIXTURES, 'parity-sample.json'), JSON.stringify({ source: 'Debian gettext catalogs, Rust tokenizers ids', strings, ids }));
console.log(`wrote ${strings.length} strings from ${catalogs.size} locales`);
