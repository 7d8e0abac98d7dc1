// The process's environment, read here and nowhere else: the commands take it as a value, so
// their settings are read once, by their tables, and tests can hand them any environment.

import type { Env } from './setting.js';

export const environment = (): Env => process.env;

/** DEBUG set: errors print their stack. */
export const debugging = (): boolean => Boolean(process.env.DEBUG);

/**
 * onnxruntime-node (1.2x on Linux) keeps a usage-telemetry database under
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime, written at every session, and carries an
 * HTTPS uploader for it, unless ORT_DISABLE_TELEMETRY is set. A service that embeds users'
 * texts writes nothing of the kind by default. The library reads the variable from the C
 * environment when it starts, so this runs on the main thread before any thread loads it; a
 * value the user set (ORT_DISABLE_TELEMETRY=0) is kept.
 */
export function keepOnnxruntimeQuiet(): void {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
}
