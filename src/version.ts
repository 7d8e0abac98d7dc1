// Versions recorded in manifests, /info and logs. Read from package.json files on disk
// rather than imported, so no JSON module loading is needed on the start-up path.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function versionOf(pkgJson: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(pkgJson), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

let ours: string | undefined;
let ort: string | undefined;
export const ortosVersion = (): string => (ours ??= versionOf('../package.json'));
export const onnxruntimeVersion = (): string => (ort ??= versionOf('onnxruntime-node/package.json'));
