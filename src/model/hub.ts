// Downloads a model from the Hugging Face hub into the hub's cache layout
// ($HF_HOME/hub/models--org--name/{blobs,snapshots,refs}), so that the same volume serves
// Python tools too.
//
// Written here rather than taken from @huggingface/hub: its downloadFileToCacheDir neither
// resumes, reports progress, nor checks what it wrote, and those are the three things a
// 279 MB download on a small machine needs. The protocol is the hub's public one: the
// model-info API for the commit and file list, `resolve` URLs whose headers carry the
// file's id (X-Linked-Etag: the SHA-256 of an LFS file; ETag: the git blob SHA-1 of a small
// one) and size, and HTTP Range requests to resume.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { DTYPES, ONNX_FILES, REQUIRED_FILES, type Dtype } from './layout.js';

export const DEFAULT_REPO = 'intfloat/multilingual-e5-base';
export const DEFAULT_REVISION = 'd128750597153bb5987e10b1c3493a34e5a4502a';
export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** Sizes and SHA-256 published for the pinned default; a mismatch is an error, never a warning. */
export const PINNED: Record<string, { size?: number; sha256: string }> = {
  [`${DEFAULT_REPO}@${DEFAULT_REVISION}/tokenizer.json`]: { size: 17_082_660, sha256: '62c24cdc13d4c9952d63718d6c9fa4c287974249e16b7ade6d5a85e7bbb75626' },
  [`${DEFAULT_REPO}@${DEFAULT_REVISION}/onnx/model_qint8_avx512_vnni.onnx`]: { sha256: '2523551878658b305550d8759443822dbfda9ed9c8012ef2c354ba2c5b9de503' },
  [`${DEFAULT_REPO}@${DEFAULT_REVISION}/onnx/model.onnx`]: { sha256: '84a4d426f7e87a6bf5bf195f0bae2c4a7d15f675b23ca96f42fab8326d7a77aa' },
  [`${DEFAULT_REPO}@${DEFAULT_REVISION}/model.safetensors`]: { size: 1_112_201_288, sha256: 'a18a44fad1d0b46ded15928144138cff1135d5cc8233bdd90be5f18822de09a7' },
};

export interface HubOptions {
  hfHome: string;
  endpoint: string;
  token?: string;
  offline: boolean;
  log: (message: string) => void;
  /** Milliseconds between progress lines. */
  progressEvery?: number;
  fetch?: typeof fetch;
}

export interface ModelRef {
  repo: string;
  revision: string;
}

export class HubError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubError';
  }
}

const COMMIT = /^[0-9a-f]{40}$/;

export function parseModelRef(spec: string): ModelRef {
  const [repo, revision] = spec.split('@');
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo ?? '')) throw new HubError(`--model must look like ORG/NAME[@REVISION], got "${spec}"`);
  return { repo, revision: revision && revision.length > 0 ? revision : 'main' };
}

export function repoFolder(hfHome: string, repo: string): string {
  return join(hfHome, 'hub', `models--${repo.replace(/\//g, '--')}`);
}

function snapshotDir(hfHome: string, repo: string, commit: string): string {
  return join(repoFolder(hfHome, repo), 'snapshots', commit);
}

/** The local snapshot, resolving a branch through refs/ as the hub cache does. */
export function cachedSnapshot(hfHome: string, ref: ModelRef, dtype?: Dtype): string | null {
  let commit = ref.revision;
  if (!COMMIT.test(commit)) {
    try {
      commit = readFileSync(join(repoFolder(hfHome, ref.repo), 'refs', ref.revision), 'utf8').trim();
    } catch {
      return null;
    }
  }
  const dir = snapshotDir(hfHome, ref.repo, commit);
  const onnx = (dtype ? ONNX_FILES[dtype] : DTYPES.flatMap((d) => ONNX_FILES[d])).some((f) => existsSync(join(dir, f)));
  return onnx && REQUIRED_FILES.every((f) => existsSync(join(dir, f))) ? dir : null;
}

function mib(n: number): string {
  return (n / 2 ** 20).toFixed(1);
}

function cleanEtag(v: string | null): string | null {
  if (v === null) return null;
  return v.replace(/^W\//, '').replace(/"/g, '');
}

async function hashFile(path: string, algorithm: 'sha256' | 'sha1', gitBlobSize?: number): Promise<string> {
  const h = createHash(algorithm);
  if (gitBlobSize !== undefined) h.update(`blob ${gitBlobSize}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class HubClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: HubOptions) {
    this.fetch = opts.fetch ?? fetch;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'user-agent': 'ortos-embed', ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}), ...extra };
  }

  private url(path: string): string {
    return `${this.opts.endpoint.replace(/\/$/, '')}${path}`;
  }

  private async get(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetch(url, init);
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new HubError(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}` +
        ' (set HF_HUB_OFFLINE=1 to use only the local cache, or --model-dir for a local folder)');
    }
  }

  private async modelInfo(ref: ModelRef): Promise<{ commit: string; files: string[] }> {
    const url = this.url(`/api/models/${ref.repo}/revision/${encodeURIComponent(ref.revision)}`);
    const res = await this.get(url, { headers: this.headers() });
    if (res.status === 401 || res.status === 403) throw new HubError(`${ref.repo}: access denied (${res.status}); set HF_TOKEN for a private or gated repo`);
    if (res.status === 404) throw new HubError(`${ref.repo}@${ref.revision}: no such model or revision on ${this.opts.endpoint}`);
    if (!res.ok) throw new HubError(`${url}: HTTP ${res.status}`);
    const body = (await res.json()) as { sha?: string; siblings?: Array<{ rfilename?: string }> };
    if (typeof body.sha !== 'string' || !COMMIT.test(body.sha)) throw new HubError(`${url}: the answer has no commit id`);
    return { commit: body.sha, files: (body.siblings ?? []).flatMap((s) => (typeof s.rfilename === 'string' ? [s.rfilename] : [])) };
  }

  /** Makes sure the snapshot holds the files a model needs; returns its folder. */
  async snapshot(ref: ModelRef, dtype: Dtype | undefined): Promise<string> {
    const cached = cachedSnapshot(this.opts.hfHome, ref, dtype);
    if (this.opts.offline) {
      if (cached) return cached;
      throw new HubError(`HF_HUB_OFFLINE is set and ${ref.repo}@${ref.revision} is not in ${join(this.opts.hfHome, 'hub')}` +
        ' (run once online, or use --model-dir)');
    }
    if (cached && COMMIT.test(ref.revision)) return cached;
    const info = await this.modelInfo(ref);
    const order = dtype ? ONNX_FILES[dtype] : [...ONNX_FILES.int8, ...ONNX_FILES.fp32];
    const onnx = order.find((f) => info.files.includes(f));
    if (onnx === undefined) throw new HubError(`${ref.repo}@${info.commit} has none of ${order.join(', ')}`);
    for (const path of [...REQUIRED_FILES, onnx]) await this.file(ref, info.commit, path);
    if (!COMMIT.test(ref.revision)) {
      const refs = join(repoFolder(this.opts.hfHome, ref.repo), 'refs');
      mkdirSync(refs, { recursive: true });
      writeFileSync(join(refs, ref.revision), info.commit);
    }
    return snapshotDir(this.opts.hfHome, ref.repo, info.commit);
  }

  /** Downloads one file into blobs/ and links it from the snapshot. */
  async file(ref: ModelRef, commit: string, path: string): Promise<string> {
    const folder = repoFolder(this.opts.hfHome, ref.repo);
    const pointer = join(folder, 'snapshots', commit, path);
    if (existsSync(pointer)) return pointer;
    const resolveUrl = this.url(`/${ref.repo}/resolve/${commit}/${path}`);
    const head = await this.get(resolveUrl, { method: 'HEAD', headers: this.headers(), redirect: 'manual' });
    if (head.status >= 400) throw new HubError(`${ref.repo}/${path}@${commit}: HTTP ${head.status}`);
    const linkedEtag = cleanEtag(head.headers.get('x-linked-etag'));
    const etag = linkedEtag ?? cleanEtag(head.headers.get('etag'));
    const sizeHeader = head.headers.get('x-linked-size') ?? head.headers.get('content-length');
    if (etag === null || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(etag)) throw new HubError(`${resolveUrl}: no usable ETag in the answer`);
    const size = sizeHeader !== null ? Number(sizeHeader) : undefined;
    const pin = PINNED[`${ref.repo}@${commit}/${path}`];
    if (pin?.size !== undefined && size !== undefined && pin.size !== size) {
      throw new HubError(`${path}: the hub says ${size} bytes, the pinned size is ${pin.size}`);
    }
    if (pin && linkedEtag !== null && linkedEtag !== pin.sha256) {
      throw new HubError(`${path}: the hub's SHA-256 ${linkedEtag} differs from the pinned ${pin.sha256}`);
    }

    const blob = join(folder, 'blobs', etag);
    if (!existsSync(blob)) await this.download(resolveUrl, blob, path, etag, linkedEtag !== null, size, pin?.sha256);
    mkdirSync(dirname(pointer), { recursive: true });
    const tmpLink = `${pointer}.tmp-${process.pid}`;
    rmSync(tmpLink, { force: true });
    symlinkSync(relative(dirname(pointer), blob), tmpLink);
    renameSync(tmpLink, pointer);
    return pointer;
  }

  private async download(url: string, blob: string, path: string, etag: string, isLfs: boolean, size: number | undefined, pinnedSha: string | undefined): Promise<void> {
    mkdirSync(dirname(blob), { recursive: true });
    const partial = `${blob}.incomplete`;
    let have = existsSync(partial) ? statSync(partial).size : 0;
    if (size !== undefined && have > size) {
      unlinkSync(partial);
      have = 0;
    }
    const res = await this.get(url, { headers: this.headers(have > 0 ? { range: `bytes=${have}-` } : {}) });
    if (res.status === 416 && size !== undefined && have === size) {
      // Everything is already there.
    } else if (!res.ok || res.body === null) {
      throw new HubError(`${url}: HTTP ${res.status}`);
    } else {
      if (have > 0 && res.status !== 206) have = 0; // the server ignored the range: start over
      const total = size ?? (Number(res.headers.get('content-length')) || 0) + have;
      const file = await open(partial, have > 0 ? 'a' : 'w');
      if (have > 0) this.opts.log(`resuming ${path} at ${mib(have)} of ${mib(total)} MiB`);
      else this.opts.log(`downloading ${path} (${mib(total)} MiB)`);
      const started = Date.now();
      let last = started;
      let got = have;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          await file.write(chunk);
          got += chunk.length;
          const now = Date.now();
          if (now - last >= (this.opts.progressEvery ?? 2000)) {
            last = now;
            const rate = (got - have) / Math.max(0.001, (now - started) / 1000);
            this.opts.log(`  ${path}: ${mib(got)}/${mib(total)} MiB (${total > 0 ? Math.floor((got / total) * 100) : '?'}%) ${mib(rate)} MiB/s`);
          }
        }
      } catch (e) {
        await file.close();
        const code = (e as { code?: string }).code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          rmSync(partial, { force: true });
          throw new HubError(`${path}: the disk is full (${dirname(blob)}); nothing was kept. Free ${size !== undefined ? mib(size) + ' MiB' : 'space'} and retry`);
        }
        throw new HubError(`${path}: download interrupted at ${mib(got)} MiB (${(e as Error).message}); run again to resume`);
      }
      await file.close();
    }
    const written = statSync(partial).size;
    if (size !== undefined && written !== size) {
      if (written > size) rmSync(partial, { force: true });
      throw new HubError(`${path}: got ${written} bytes, expected ${size}${written < size ? '; run again to resume' : ''}`);
    }
    const actual = isLfs ? await hashFile(partial, 'sha256') : await hashFile(partial, 'sha1', written);
    if (actual !== etag || (pinnedSha !== undefined && isLfs && actual !== pinnedSha)) {
      rmSync(partial, { force: true });
      throw new HubError(`${path}: checksum mismatch (${isLfs ? 'SHA-256' : 'git SHA-1'} ${actual}, expected ${etag}); the corrupt download was deleted`);
    }
    if (pinnedSha !== undefined && !isLfs) {
      const sha = await hashFile(partial, 'sha256');
      if (sha !== pinnedSha) {
        rmSync(partial, { force: true });
        throw new HubError(`${path}: SHA-256 ${sha} differs from the pinned ${pinnedSha}; the download was deleted`);
      }
    }
    renameSync(partial, blob);
    this.opts.log(`  ${path}: ${mib(written)} MiB, checksum ok`);
  }
}
