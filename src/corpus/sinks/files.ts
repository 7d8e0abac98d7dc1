// Small file helpers shared by the sinks: opening a file at a checkpoint's length, positional
// writes that finish.

import { existsSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { JobError } from '../job-error.js';

/**
 * `path` opened for writing and cut back to `bytes`: what was written after the last checkpoint
 * goes. A file shorter than the checkpoint says was damaged or replaced since: refused, not
 * padded with zeros.
 */
export function openAt(path: string, bytes: number): number {
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
  const size = fstatSync(fd).size;
  if (size < bytes) throw new JobError(`${path} is ${size} bytes, but the job's checkpoint says ${bytes} were written: it was changed since; remove it and its .progress.json to start again`);
  ftruncateSync(fd, bytes);
  return fd;
}

export function writeAllAt(fd: number, bytes: Uint8Array, at: number): number {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
  return bytes.length;
}
