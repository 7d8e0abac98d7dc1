#!/usr/bin/env node
// The `ortos-embed` command. In a clone of the project (src/ beside dist/) the service is built
// first when its sources are newer than the last build (`npm install` runs no scripts here, see
// .npmrc): about a second the first time, a few milliseconds of checking after that. An installed
// package has only dist/ and runs it at once.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const built = join(root, 'dist', '.built');

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newest(join(path, name))), st.mtimeMs);
}

if (existsSync(join(root, 'src')) && existsSync(join(root, 'scripts', 'build.mjs'))) {
  const stale = !existsSync(built) || !existsSync(join(root, 'dist', 'bin', 'main.js')) || newest(join(root, 'src')) > statSync(built).mtimeMs;
  if (stale) {
    process.stderr.write('ortos-embed: building the service (first run after install or a change; about a second)\n');
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
await import(pathToFileURL(join(root, 'dist', 'bin', 'main.js')).href);
