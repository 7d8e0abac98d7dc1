// Progress and diagnostics go to stderr with a timestamp, so stdout stays machine-readable.

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

/** Said whenever a command runs a generated test model, whose vectors carry no meaning. */
export const RANDOM_WEIGHTS = 'note: this model has random weights (a generated test fixture): its vectors mean nothing; for real vectors use the hub model (the default) or its files with --model-dir';
