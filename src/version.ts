// Versions recorded in manifests, /info and logs. Read from package.json files on disk
// rather than imported, so no JSON module loading is needed on the start-up path; our own
// is found by walking up from this file, which works both from dist/ and from the bundle.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function ownVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ortos-embed' && pkg.version) return pkg.version;
    } catch {
      // keep walking up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

function dependencyVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

let ours: string | undefined;
let ort: string | undefined;
export const ortosVersion = (): string => (ours ??= ownVersion());
export const onnxruntimeVersion = (): string => (ort ??= dependencyVersion('onnxruntime-node'));
