// The README's offline start, its curl call and its TypeScript example, run as written. They are
// read out of README.md (the code block after each `<!-- tested: NAME -->` marker), so the text a
// newcomer copies and what this test runs cannot drift apart. Only the port differs: the test
// sets PORT (which the README's command reads) to a free one and puts it into the client examples.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { CACHE_DIR, PROJECT_ROOT } from '../helpers/fixtures.js';

export function readmeBlock(markdown: string, name: string): { lang: string; code: string } {
  const at = markdown.indexOf(`<!-- tested: ${name} -->`);
  assert.ok(at >= 0, `README.md has no "<!-- tested: ${name} -->" marker`);
  const m = /```(\w*)\n([\s\S]*?)```/.exec(markdown.slice(at));
  assert.ok(m, `no code block after the "${name}" marker`);
  return { lang: m[1], code: m[2] };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Runs a shell snippet to its end; stdout and the exit code. */
function sh(code: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', code], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

test('README: the offline one-liner starts the service; its curl and TypeScript examples get vectors', { timeout: 15 * 60_000 }, async (t) => {
  const start = readmeBlock(README, 'offline-start');
  const lines = start.code.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  assert.equal(lines.length, 1, 'the offline start is one command');
  const port = await freePort();
  // As a newcomer runs it: no key in the environment (loopback needs none).
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: 'info' };
  delete env.API_KEY;
  // Its own process group, so npm, the shell and the service all receive the SIGTERM.
  const child = spawn('sh', ['-c', lines[0]], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (line: string): void => {
      output.push(line);
      if (line.includes('"msg":"model ready"')) resolve();
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    void exited.then((code) => reject(new Error(`the offline start exited (${code}) before the model was ready:\n${output.slice(-30).join('\n')}`)));
  });
  t.after(async () => {
    try {
      process.kill(-(child.pid as number), 'SIGTERM');
    } catch {
      // already gone
    }
    await exited;
  });
  await ready;

  const curl = readmeBlock(README, 'curl');
  assert.match(curl.code, /localhost:8080/);
  const c = await sh(curl.code.replaceAll('localhost:8080', `localhost:${port}`), env);
  assert.equal(c.status, 0, c.stderr);
  const body = JSON.parse(c.stdout) as { data: Array<{ embedding: number[]; index: number }>; model: string };
  assert.equal(body.data.length, 2);
  for (const d of body.data) {
    assert.equal(d.embedding.length, 768);
    const norm = Math.hypot(...d.embedding);
    assert.ok(Math.abs(norm - 1) < 1e-5, `unit length, got ${norm}`);
  }

  const ts = readmeBlock(README, 'typescript');
  assert.equal(ts.lang, 'ts');
  assert.match(ts.code, /localhost:8080/);
  // Written inside the project so that `import 'openai'` resolves from its node_modules, and run
  // as the README says, `node example.ts` (Node.js 22.18 and later strip the types themselves).
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, 'readme-example.ts');
  writeFileSync(file, ts.code.replaceAll('localhost:8080', `localhost:${port}`));
  const r = await sh(`"${process.execPath}" "${file}"`, env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '768', `the example prints the vector's length; got ${r.stdout}`);
});
