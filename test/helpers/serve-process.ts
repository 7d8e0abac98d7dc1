// Spawns the real `ortos-embed serve` (the bundled bin) on a free loopback port and reads
// its JSON log lines, for tests of the whole process: signals, idle exit, wake.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from './fixtures.js';

export const BIN = join(PROJECT_ROOT, 'dist', 'bin', 'main.js');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  logs: Array<Record<string, unknown>>;
  stderr: string[];
  exited: Promise<number | null>;
  waitFor(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export async function spawnServe(args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = [], bin = BIN): Promise<ServeProcess> {
  const cmd = [...prefix, process.execPath, bin, 'serve', '--host', '127.0.0.1', '--port', '0', ...args];
  const child = spawn(cmd[0], cmd.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const listeners: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      stderr.push(line);
    }
    for (const l of listeners.splice(0)) l();
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => {
    for (const l of listeners.splice(0)) l();
    r(code);
  }));
  let dead = false;
  void exited.then(() => (dead = true));
  const waitFor = async (msg: string, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = logs.find((l) => l.msg === msg);
      if (hit) return hit;
      if (dead) throw new Error(`serve exited before logging "${msg}": ${stderr.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`no "${msg}" log line within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        listeners.push(r);
        setTimeout(r, 100);
      });
    }
  };
  const listening = await waitFor('listening');
  return { child, url: String(listening.url), logs, stderr, exited, waitFor };
}
