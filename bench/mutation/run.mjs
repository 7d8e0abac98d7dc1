#!/usr/bin/env node
// Mutation testing of the modules where a bug would hurt users most, with StrykerJS: each
// group of modules is mutated and its own (fast) tests are run against every mutant, through
// Stryker's command runner (node's test runner has no Stryker plugin). A measurement, not
// part of npm test: `npm run mutation [group ...]`. The summary goes to
// bench/results/mutation-<date>.json; Stryker's HTML report to reports/mutation/<group>.html.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stryker } from '@stryker-mutator/core';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
process.chdir(root);

const GROUPS = {
  pooling: { mutate: ['src/engine/pooling.ts'], tests: ['build/test/engine/pooling.test.js'] },
  queue: { mutate: ['src/core/batcher.ts', 'src/engine/batching.ts'], tests: ['build/test/core/queue.test.js', 'build/test/engine/batching.test.js', 'build/test/core/batcher.test.js'] },
  auth: { mutate: ['src/server/auth.ts'], tests: ['build/test/server/auth.test.js'] },
  // The token and host rules, headers and the Retry-After parsing: lines 32-110, from the hub hosts
  // to headersFor (keep the range in step when the file changes).
  'hub-rules': { mutate: ['src/model/hub-http.ts:32-110'], tests: ['build/test/model/hub-hosts.test.js'] },
  // The one retry loop of hub requests and downloads.
  retry: { mutate: ['src/model/retry.ts'], tests: ['build/test/model/retry.test.js'] },
  // The embedding cache's keys, its in-memory tier and the two tiers together, through the
  // service (needs Node.js 22.13+ for node:sqlite).
  cache: { mutate: ['src/cache/identity.ts', 'src/cache/memory-tier.ts', 'src/cache/embedding-cache.ts'], tests: ['build/test/cache/memory-tier.test.js', 'build/test/cache/embedding-cache.test.js', 'build/test/cache/http-cache.test.js'] },
  schemas: { mutate: ['src/server/schemas.ts', 'src/server/routes/limits.ts'], tests: ['build/test/server/request-schemas.test.js'] },
  'int8-choice': { mutate: ['src/engine/int8-kernels.ts:69-80'], tests: ['build/test/engine/int8-choice.test.js'] },
};

const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(GROUPS);
const summary = { date: new Date().toISOString(), node: process.version, groups: {} };
for (const name of wanted) {
  const g = GROUPS[name];
  if (!g) throw new Error(`no group ${name}; groups: ${Object.keys(GROUPS).join(', ')}`);
  const stryker = new Stryker({
    testRunner: 'command',
    commandRunner: { command: `node --test --test-concurrency=1 --test-timeout=120000 ${g.tests.join(' ')}` },
    buildCommand: `node ${join(root, 'node_modules', 'typescript', 'bin', 'tsc')} -p tsconfig.test.json`,
    mutate: g.mutate,
    ignorePatterns: ['.cache', 'dist', 'build', 'bench/peers', 'reports', 'docs', '*.log'],
    coverageAnalysis: 'off',
    concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
    // Over the tests' own time (well under a second each); a mutant that loops forever waits this long.
    timeoutMS: 10_000,
    reporters: ['clear-text', 'html', 'json'],
    htmlReporter: { fileName: `reports/mutation/${name}.html` },
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    // Its tsconfig rewrite needs TypeScript's JS API, which TypeScript 7 does not ship; ours has
    // no extends or references for it to rewrite.
    tsconfigFile: 'tsconfig.none.json',
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
    logLevel: 'warn',
  });
  const results = await stryker.runMutationTest();
  const count = (s) => results.filter((r) => r.status === s).length;
  const killed = count('Killed') + count('Timeout');
  const survived = results.filter((r) => r.status === 'Survived' || r.status === 'NoCoverage');
  const valid = killed + survived.length;
  summary.groups[name] = {
    modules: g.mutate,
    tests: g.tests,
    mutants: results.length,
    killed,
    survived: survived.length,
    ignored: count('Ignored'),
    errors: count('CompileError') + count('RuntimeError'),
    score: valid === 0 ? null : Math.round((killed / valid) * 1000) / 10,
    survivors: survived.map((r) => ({ file: r.fileName, line: r.location.start.line, mutator: r.mutatorName, replacement: r.replacement })),
  };
  console.log(`${name}: ${killed}/${valid} killed (${summary.groups[name].score}%)`);
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const out = join(root, 'bench', 'results', `mutation-${summary.date.slice(0, 16).replace(/[:]/g, '')}.json`);
writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
console.log(`written ${out}`);

