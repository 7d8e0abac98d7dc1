#!/usr/bin/env node
// The build: TypeScript to build/, then the service bundled into dist/bin/ (one file to load at
// start: `serve --help` 0.12–0.17 s bundled against 0.20–0.25 s unbundled, one core), with the
// docs page's two files in dist/docs-ui/. dist/ is all that ships; tests and benchmarks compile
// into build/ beside the service's own modules and never reach it.
//
//   node scripts/build.mjs                          the service (src/ → build/src/ → dist/)
//   node scripts/build.mjs --with-tests             also test/ and bench/src/ into build/
//   node scripts/build.mjs --if-stale [--with-tests] only if a source is newer than the last build
//
// `npm start` builds this way: the first start after a change builds (about a second with
// TypeScript 7), later ones start at once, and a running service is never left without the
// files it loads (nothing is deleted before the new files are written).

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const withTests = process.argv.includes('--with-tests');
const stampFile = join(root, withTests ? 'build' : 'dist', withTests ? '.built-with-tests' : '.built');

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newest(join(path, name))), st.mtimeMs);
}

const inputs = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs', ...(withTests ? ['test', 'bench/src', 'tsconfig.test.json'] : [])];
if (process.argv.includes('--if-stale') && existsSync(stampFile) && existsSync(join(root, 'dist', 'bin', 'main.js'))) {
  if (statSync(stampFile).mtimeMs >= Math.max(...inputs.map((p) => newest(join(root, p))))) process.exit(0);
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
execFileSync(bin('tsc'), ['-p', join(root, withTests ? 'tsconfig.test.json' : 'tsconfig.json')], { stdio: 'inherit' });
// Compiled files whose source is gone (a removed or moved test must not keep running).
const build = join(root, 'build');
(function prune(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) prune(path);
    else if (name.endsWith('.js') && !existsSync(join(root, path.slice(build.length + 1).replace(/\.js$/, '.ts')))) rmSync(path);
  }
})(build);
const meta = join(root, 'dist', '.bundle-meta.json');
mkdirSync(join(root, 'dist'), { recursive: true });
execFileSync(bin('esbuild'), [
  'build/src/cli/main.js', 'build/src/onnx/to-4bit-process.js', 'build/src/engine/session-worker.js', '--bundle', '--platform=node', '--format=esm', '--splitting',
  '--outdir=dist/bin', '--entry-names=[name]', '--external:onnxruntime-node', '--external:prom-client', '--minify-syntax',
  '--log-level=warning', `--metafile=${meta}`,
], { cwd: root, stdio: 'inherit' });
// Chunks of earlier builds (their names carry a hash) go, now that the new ones are in place.
const { outputs } = JSON.parse(readFileSync(meta, 'utf8'));
const keep = new Set(Object.keys(outputs).map((p) => join(root, p)));
for (const name of readdirSync(join(root, 'dist', 'bin'))) {
  const path = join(root, 'dist', 'bin', name);
  if (!keep.has(path)) rmSync(path, { force: true });
}
rmSync(meta, { force: true });
// Whatever else an older layout left in dist/ (it once held every compiled module).
for (const name of readdirSync(join(root, 'dist'))) {
  if (!['bin', 'docs-ui', '.built'].includes(name)) rmSync(join(root, 'dist', name), { recursive: true, force: true });
}
// The docs page's renderer, served by the service itself (no CDN): two files of swagger-ui.
const ui = join(root, 'dist', 'docs-ui');
mkdirSync(ui, { recursive: true });
for (const f of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE']) copyFileSync(join(root, 'node_modules', 'swagger-ui-dist', f), join(ui, f));
const now = new Date().toISOString() + '\n';
writeFileSync(join(root, 'dist', '.built'), now);
if (withTests) writeFileSync(stampFile, now);
