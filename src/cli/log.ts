// Progress and diagnostics go to stderr with a timestamp, so stdout stays machine-readable.

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}
