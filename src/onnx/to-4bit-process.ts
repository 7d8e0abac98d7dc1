// The 4-bit rewrite as a process of its own (see rewriteTo4BitApart): arguments as one JSON
// argument, the result as one JSON line on stdout, a failure as a message on stderr and exit 1.

import { rewriteTo4Bit, type To4BitOptions } from './to-4bit.js';

const { source, target, opts } = JSON.parse(process.argv[2] ?? '{}') as { source: string; target: string; opts: To4BitOptions };
try {
  process.stdout.write(JSON.stringify(rewriteTo4Bit(source, target, opts)) + '\n');
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}
