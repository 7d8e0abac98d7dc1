// The process's environment, read here and nowhere else: the commands take it as a value, so
// their settings are read once, by their tables, and tests can hand them any environment.

import type { Env } from './setting.js';

export const environment = (): Env => process.env;

/** DEBUG set: errors print their stack. */
export const debugging = (): boolean => Boolean(process.env.DEBUG);
