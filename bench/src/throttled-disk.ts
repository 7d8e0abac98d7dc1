// Small-machine emulation (root only): ext4 images on loop devices whose reads are throttled
// with the cgroup v1 blkio controller to Fly's documented caps, memory cgroups, one core, a
// dropped page cache. Shared by the volume benchmark (small-machine.ts) and the image-store
// benchmark (image-store.ts).

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropCaches } from './machine.js';

const BLKIO = '/sys/fs/cgroup/blkio';
const MEMORY = '/sys/fs/cgroup/memory';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}

/** Why this machine cannot run the emulation, or null. */
export function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for loop devices and cgroups';
  if (!existsSync(join(BLKIO, 'blkio.throttle.read_bps_device')) || !existsSync(join(MEMORY, 'memory.limit_in_bytes'))) return 'cgroup v1 blkio and memory controllers not available';
  return null;
}

export class LoopDisk {
  private constructor(readonly img: string, readonly mnt: string, readonly loop: string, readonly devNo: string) {}

  static create(dir: string, name: string, sizeMB: number): LoopDisk {
    const img = join(dir, `${name}.img`);
    const mnt = join(dir, name);
    mkdirSync(mnt, { recursive: true });
    sh('truncate', ['-s', `${sizeMB}M`, img]);
    sh('mkfs.ext4', ['-q', '-F', img]);
    const loop = sh('losetup', ['--find', '--show', img]);
    sh('mount', [loop, mnt]);
    const devNo = readFileSync(`/sys/block/${loop.replace('/dev/', '')}/dev`, 'utf8').trim();
    return new LoopDisk(img, mnt, loop, devNo);
  }

  /** Sets the readahead (KiB) when given; returns the one in force. */
  readAhead(kb?: number): number {
    const file = `/sys/block/${this.loop.replace('/dev/', '')}/queue/read_ahead_kb`;
    if (kb !== undefined) writeFileSync(file, String(kb));
    return Number(readFileSync(file, 'utf8').trim());
  }

  destroy(): void {
    try {
      sh('umount', [this.mnt]);
    } catch {
      // already gone
    }
    sh('losetup', ['-d', this.loop]);
    rmSync(this.img, { force: true });
  }
}

/** A cgroup pair: reads throttled per device, memory limited. */
export class Sandbox {
  private constructor(readonly blkio: string, readonly memory: string) {}

  static create(limits: Array<{ disk: LoopDisk; bytesPerSecond: number; iops: number }>, memoryMB: number): Sandbox {
    const id = `ortos-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const blkio = join(BLKIO, id);
    const memory = join(MEMORY, id);
    mkdirSync(blkio);
    mkdirSync(memory);
    for (const l of limits) {
      writeFileSync(join(blkio, 'blkio.throttle.read_bps_device'), `${l.disk.devNo} ${l.bytesPerSecond}`);
      writeFileSync(join(blkio, 'blkio.throttle.read_iops_device'), `${l.disk.devNo} ${l.iops}`);
    }
    writeFileSync(join(memory, 'memory.limit_in_bytes'), String(memoryMB * 2 ** 20));
    return new Sandbox(blkio, memory);
  }

  /** Bytes read from one device by the processes of this group, from blkio's counters. */
  bytesRead(disk: LoopDisk): number {
    const line = readFileSync(join(this.blkio, 'blkio.throttle.io_service_bytes'), 'utf8').split('\n').find((l) => l.startsWith(`${disk.devNo} Read `));
    return line ? Number(line.split(' ')[2]) : 0;
  }

  get peakMB(): number {
    return Number(readFileSync(join(this.memory, 'memory.max_usage_in_bytes'), 'utf8')) / 2 ** 20;
  }

  get oomKilled(): boolean {
    return /oom_kill [1-9]/.test(readFileSync(join(this.memory, 'memory.oom_control'), 'utf8'));
  }

  /**
   * Runs a command inside both groups, pinned to one core, from a dropped page cache, until
   * `done` resolves (or the process exits); returns milliseconds from spawn and its stdout.
   */
  async run(cmd: string, args: string[], env: NodeJS.ProcessEnv, done: () => Promise<boolean>): Promise<{ ms: number; ok: boolean; stdout: string; pid: number }> {
    dropCaches();
    const t0 = performance.now();
    const script = `echo $$ > ${this.blkio}/cgroup.procs && echo $$ > ${this.memory}/cgroup.procs && exec taskset -c 0 "$0" "$@"`;
    const child = spawn('sh', ['-c', script, cmd, ...args], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...env } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let ok = false;
    let ms = 0;
    try {
      ok = await Promise.race([done(), exited.then((code) => code === 0 && stdout.length > 0)]);
      ms = performance.now() - t0;
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    return { ms, ok, stdout, pid: child.pid ?? 0 };
  }

  destroy(): void {
    rmdirSync(this.blkio);
    rmdirSync(this.memory);
  }
}
