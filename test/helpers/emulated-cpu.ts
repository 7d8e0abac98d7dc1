// Runs node under an emulated x86 CPU without VNNI (qemu-user, `-cpu EPYC-Rome`: AVX2, no
// AVX-512): the kind of host whose int8 kernels saturate, on any machine. QEMU's TCG warns
// about features it cannot emulate on every start; those lines are dropped.

import { execFileSync, spawn } from 'node:child_process';

export const EMULATED_CPU = 'EPYC-Rome';

let qemu: string | null | undefined;

/** The qemu-x86_64 binary, or null where it is missing (or this is not an x86-64 machine). */
export function qemuBinary(): string | null {
  if (qemu !== undefined) return qemu;
  qemu = null;
  if (process.arch !== 'x64') return qemu;
  try {
    qemu = execFileSync('sh', ['-c', 'command -v qemu-x86_64'], { encoding: 'utf8' }).trim() || null;
  } catch {
    // not installed
  }
  return qemu;
}

export const SKIP_WITHOUT_QEMU = 'needs qemu-user (Debian package qemu-user; .ci/run installs it) to emulate a CPU without VNNI';

export interface EmulatedRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node args…` under the emulated CPU. */
export function runEmulated(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<EmulatedRun> {
  const bin = qemuBinary();
  if (bin === null) throw new Error(SKIP_WITHOUT_QEMU);
  return new Promise((resolve) => {
    const child = spawn(bin, ['-cpu', EMULATED_CPU, process.execPath, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr: stderr.split('\n').filter((l) => !l.startsWith('qemu-x86_64: warning: TCG')).join('\n') }));
  });
}
