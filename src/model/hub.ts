// Downloads a model from the Hugging Face hub into the hub's cache layout (hub-cache.ts), so
// the same volume serves Python tools too.
//
// Written here rather than taken from @huggingface/hub: its downloadFileToCacheDir neither
// resumes, retries, reports progress, nor checks what it wrote, and those are what a 279 MB
// download on a small machine needs. The protocol is the one huggingface_hub speaks today
// (file_download.py `get_hf_file_metadata` / `_get_metadata_or_catch_error`):
//   1. the model-info API (`/api/models/{repo}/revision/{rev}?blobs=true`) for the commit, the
//      file list and each file's size (and SHA-256 for LFS files);
//   2. a HEAD on `/{repo}/resolve/{commit}/{path}` per file, following the hub's own redirects
//      (hub-http.ts) and stopping at the CDN's: the answer's X-Linked-Etag (SHA-256 of an LFS
//      file) or ETag (git blob SHA-1 of a small one), X-Linked-Size or Content-Length (never a
//      redirect's), X-Repo-Commit, and where to GET the bytes;
//   3. a GET of those bytes with Range to resume (download.ts), checked against size and hash
//      before the blob is renamed into place and linked from the snapshot.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { downloadFile } from './download.js';
import { acquireLock, type LockOptions } from './file-lock.js';
import { blobPath, cachedSnapshot, COMMIT, linkPointer, lockPath, readRef, snapshotDir, writeRef } from './hub-cache.js';
import { HubError, HubHttp, type HubHttpOptions } from './hub-http.js';
import { ONNX_FILES, REQUIRED_FILES, type Dtype } from './layout.js';
import { POOLING_FILE, RULE_FILES } from './rules.js';

export { HubError } from './hub-http.js';

export const DEFAULT_REPO = 'intfloat/multilingual-e5-base';
export const DEFAULT_REVISION = 'd128750597153bb5987e10b1c3493a34e5a4502a';
export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/**
 * Sizes and SHA-256 published for the pinned default; a mismatch is an error, never a warning.
 * The int8 export's exact size is not pinned: public code gives 278,686,411 B, but the hub's
 * own listing (`?blobs=true`) could not be checked from where this was written; the listing
 * and X-Linked-Size are compared at download time instead.
 */
export const PINNED: Record<string, { size?: number; sha256: string }> = {
  [`${DEFAULT_REPO}@${DEFAULT_REVISION}/tokenizer.json`]: { size: 17_082_660, sha256: '62c24cdc13d4c9952d63718d6c9fa4c287974249e16b7ade6d5a85e7bbb75626' },
  [`${DEFAULT_REPO}@${DEFAULT_REVISION}/onnx/model_qint8_avx512_vnni.onnx`]: { sha256: '2523551878658b305550d8759443822dbfda9ed9c8012ef2c354ba2c5b9de503' },
  [`${DEFAULT_REPO}@${DEFAULT_REVISION}/onnx/model.onnx`]: { sha256: '84a4d426f7e87a6bf5bf195f0bae2c4a7d15f675b23ca96f42fab8326d7a77aa' },
};

/** Everything the hub client is given; its HTTP side (hub-http.ts) takes the same object. */
export interface HubOptions extends HubHttpOptions {
  /** The hub cache folder (HF_HUB_CACHE, by default $HF_HOME/hub). */
  hubCache: string;
  offline: boolean;
  /** What turned offline mode on, for the message. */
  offlineSource?: string;
  /** Milliseconds between progress lines. */
  progressEvery?: number;
  /** No byte for this long and a download resumes (HF_HUB_DOWNLOAD_TIMEOUT; ms). */
  stallMs?: number;
  lock?: LockOptions;
}

export interface ModelRef {
  repo: string;
  revision: string;
}

/** What the hub's file listing says of one file. */
export interface ListedFile {
  size?: number;
  sha256?: string;
}

export interface RepoInfo {
  /** The repo's name now (a renamed repo answers under its new name). */
  repo: string;
  commit: string;
  files: Map<string, ListedFile>;
}

export interface Snapshot {
  dir: string;
  repo: string;
  commit: string;
}

export interface FileMetadata {
  etag: string;
  lfs: boolean;
  size?: number;
  commit: string;
  /** Where the bytes are: the CDN (signed, no Authorization) or the hub's resolve-cache URL. */
  url: string;
}

export function parseModelRef(spec: string): ModelRef {
  const at = spec.indexOf('@');
  const repo = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? '' : spec.slice(at + 1);
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new HubError(`--model must look like ORG/NAME[@REVISION], got "${spec}"`);
  if (revision !== '' && !/^[\w.\-/]+$/.test(revision)) throw new HubError(`--model: "${revision}" is not a revision (a branch, tag, refs/pr/N or commit id)`);
  return { repo, revision: revision.length > 0 ? revision : 'main' };
}

function cleanEtag(v: string | null): string | null {
  return v === null ? null : v.replace(/^W\//, '').replace(/"/g, '').trim();
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

async function hashFile(path: string, algorithm: 'sha256' | 'sha1', gitBlobSize?: number): Promise<string> {
  const h = createHash(algorithm);
  if (gitBlobSize !== undefined) h.update(`blob ${gitBlobSize}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const mib = (n: number): string => (n / 2 ** 20).toFixed(1);

export class HubClient {
  private readonly http: HubHttp;

  constructor(private readonly opts: HubOptions) {
    this.http = new HubHttp({ ...opts, metadataTimeoutMs: opts.metadataTimeoutMs ?? 10_000 });
  }

  /** The commit, current name and file listing of a revision. */
  async repoInfo(ref: ModelRef): Promise<RepoInfo> {
    const subject = { repo: ref.repo, revision: ref.revision };
    const { res, url } = await this.http.request(this.http.url(`/api/models/${ref.repo}/revision/${encodeURIComponent(ref.revision)}?blobs=true`), subject);
    let body: { id?: string; modelId?: string; sha?: string; siblings?: Array<{ rfilename?: string; size?: number; lfs?: { sha256?: string; size?: number } }> };
    try {
      body = (await res.json()) as typeof body;
    } catch (e) {
      throw new HubError(`${url}: the answer is not the model-info JSON (${(e as Error).message}); is HF_ENDPOINT a hub?`);
    }
    if (typeof body.sha !== 'string' || !COMMIT.test(body.sha)) throw new HubError(`${url}: the answer has no commit id; is HF_ENDPOINT a hub?`);
    const files = new Map<string, ListedFile>();
    for (const s of body.siblings ?? []) {
      if (typeof s.rfilename !== 'string') continue;
      files.set(s.rfilename, { size: s.lfs?.size ?? s.size, sha256: s.lfs?.sha256 });
    }
    const now = body.id ?? body.modelId ?? ref.repo;
    if (now !== ref.repo) this.opts.log(`  ${ref.repo} is now called ${now}; following the hub's redirect`);
    return { repo: now, commit: body.sha, files };
  }

  /** What a HEAD on `resolve` says of one file at a commit. */
  async metadata(repo: string, commit: string, path: string): Promise<FileMetadata> {
    const resolve = this.http.url(`/${repo}/resolve/${commit}/${encodePath(path)}`);
    const { res, url } = await this.http.request(resolve, { repo, revision: commit, path }, { method: 'HEAD', stopOffHub: true });
    await res.body?.cancel();
    const redirected = res.status >= 300 && res.status < 400;
    const linked = cleanEtag(res.headers.get('x-linked-etag'));
    const etag = linked ?? cleanEtag(res.headers.get('etag'));
    const where = redirected ? `${url} (a redirect to ${new URL(res.headers.get('location') ?? '', url).origin})` : url;
    if (etag === null || !/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(etag)) {
      throw new HubError(`${where}: no ETag or X-Linked-Etag in the answer, so the file cannot be verified; if HF_ENDPOINT is a mirror, it may not speak the hub's protocol`);
    }
    const answered = res.headers.get('x-repo-commit');
    if (answered === null) {
      throw new HubError(`${where}: no X-Repo-Commit in the answer; if HF_ENDPOINT is a mirror or proxy, it may not pass the hub's headers on`);
    }
    if (answered !== commit) throw new HubError(`${where}: the hub answered for commit ${answered}, ${commit} was asked for`);
    const encoded = (res.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
    // A redirect's Content-Length is the size of the redirect's body (huggingface_hub #4698/#4699).
    const sizeHeader = res.headers.get('x-linked-size') ?? (redirected || encoded ? null : res.headers.get('content-length'));
    const size = sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : undefined;
    return { etag, lfs: etag.length === 64, size, commit, url: redirected ? new URL(res.headers.get('location')!, url).toString() : url };
  }

  /** Makes sure the snapshot holds the files a model needs; returns its folder, repo and commit. */
  async snapshot(ref: ModelRef, dtype: Dtype | undefined, extra: readonly string[] = []): Promise<Snapshot> {
    const { hubCache, log } = this.opts;
    const dir = cachedSnapshot(hubCache, ref.repo, ref.revision, dtype, extra);
    const cached = dir === null ? null : { dir, repo: ref.repo, commit: readRef(hubCache, ref.repo, ref.revision)! };
    if (this.opts.offline) {
      if (cached) return cached;
      throw new HubError(`offline (${this.opts.offlineSource ?? 'HF_HUB_OFFLINE=1'}), and ${ref.repo}@${ref.revision} is not complete in ${hubCache}` +
        ' (run once online, or use --model-dir)');
    }
    if (cached && COMMIT.test(ref.revision)) return cached;
    let info: RepoInfo;
    try {
      info = await this.repoInfo(ref);
    } catch (e) {
      if (e instanceof HubError && e.transient && cached) {
        log(`  the hub is unreachable or failing (${e.message}); using the cached ${ref.revision} → ${cached.commit}`);
        return cached;
      }
      throw e;
    }
    const order = dtype ? ONNX_FILES[dtype] : [...ONNX_FILES.int8, ...ONNX_FILES.fp32];
    const onnx = order.find((f) => info.files.has(f));
    if (onnx === undefined) throw new HubError(`${info.repo}@${info.commit} has none of ${order.join(', ')}`);
    const missing = [...REQUIRED_FILES, ...extra].filter((f) => !info.files.has(f));
    if (missing.length > 0) throw new HubError(`${info.repo}@${info.commit} lacks ${missing.join(', ')}: is it a sentence-embedding model with a tokenizer.json?`);
    // The sentence-transformers files say how to pool and prompt; downloaded when the repo has them.
    const rules = [...info.files.keys()].filter((f) => (RULE_FILES as readonly string[]).includes(f) || POOLING_FILE.test(f));
    for (const path of [...REQUIRED_FILES, ...extra, ...rules, onnx]) await this.file(info.repo, info.commit, path, info.files.get(path), ref);
    // Refs last: a ref only ever points at a complete snapshot.
    writeRef(hubCache, ref.repo, ref.revision, info.commit);
    if (info.repo !== ref.repo) writeRef(hubCache, info.repo, ref.revision, info.commit);
    return { dir: snapshotDir(hubCache, info.repo, info.commit), repo: info.repo, commit: info.commit };
  }

  /** Downloads one file into blobs/ (if needed) and links it from the snapshot. */
  async file(repo: string, commit: string, path: string, listed: ListedFile = {}, asked?: ModelRef): Promise<string> {
    const { hubCache, log } = this.opts;
    const pointer = join(snapshotDir(hubCache, repo, commit), path);
    if (existsSync(pointer)) return pointer;
    const meta = await this.metadata(repo, commit, path);
    const where = `${repo}@${commit} ${path}`;
    if (listed.size !== undefined && meta.size !== undefined && listed.size !== meta.size) {
      throw new HubError(`${where}: the hub's listing says ${listed.size} bytes, its file answer ${meta.size}`);
    }
    if (listed.sha256 !== undefined && meta.lfs && listed.sha256 !== meta.etag) {
      throw new HubError(`${where}: the hub's listing says SHA-256 ${listed.sha256}, its file answer ${meta.etag}`);
    }
    const size = meta.size ?? listed.size;
    const pin = PINNED[`${asked?.repo ?? repo}@${commit}/${path}`] ?? PINNED[`${repo}@${commit}/${path}`];
    if (pin?.size !== undefined && size !== undefined && pin.size !== size) {
      throw new HubError(`${path}: the hub says ${size} bytes, the pinned size is ${pin.size}`);
    }
    if (pin && meta.lfs && meta.etag !== pin.sha256) {
      throw new HubError(`${path}: the hub's SHA-256 ${meta.etag} differs from the pinned ${pin.sha256}`);
    }

    const blob = blobPath(hubCache, repo, meta.etag);
    if (!existsSync(blob)) {
      const lock = await acquireLock(lockPath(hubCache, repo, meta.etag), {
        ...this.opts.lock,
        onWait: (holder) => log(`  ${path}: ${holder} is downloading it into the same cache; waiting`),
      });
      try {
        // The other holder may have finished it meanwhile.
        if (!existsSync(blob)) await this.fetchBlob(repo, commit, path, meta, size, blob, pin?.sha256);
      } finally {
        lock.release();
      }
    }
    const how = linkPointer(blob, pointer);
    if (how === 'copy') log(`  ${path}: this filesystem cannot hold symlinks; the snapshot has a copy of the blob`);
    return pointer;
  }

  private async fetchBlob(repo: string, commit: string, path: string, meta: FileMetadata, size: number | undefined, blob: string, pinnedSha: string | undefined): Promise<void> {
    const { log } = this.opts;
    mkdirSync(dirname(blob), { recursive: true });
    const partial = `${blob}.incomplete`;
    await downloadFile(this.http, {
      subject: { repo, revision: commit, path },
      url: meta.url,
      partial,
      size,
      refresh: async () => (await this.metadata(repo, commit, path)).url,
    }, {
      retry: this.http.retry,
      stallMs: this.opts.stallMs ?? 10_000,
      progressEvery: this.opts.progressEvery ?? 2000,
      log,
    });
    // downloadFile returns only with the size the hub said; the content is checked here.
    const written = statSync(partial).size;
    const actual = meta.lfs ? await hashFile(partial, 'sha256') : await hashFile(partial, 'sha1', written);
    if (actual !== meta.etag) {
      rmSync(partial, { force: true });
      throw new HubError(`${path}: checksum mismatch (${meta.lfs ? 'SHA-256' : 'git SHA-1'} ${actual}, expected ${meta.etag}); the corrupt download was deleted`);
    }
    if (pinnedSha !== undefined && !meta.lfs) {
      const sha = await hashFile(partial, 'sha256');
      if (sha !== pinnedSha) {
        rmSync(partial, { force: true });
        throw new HubError(`${path}: SHA-256 ${sha} differs from the pinned ${pinnedSha}; the download was deleted`);
      }
    }
    renameSync(partial, blob);
    log(`  ${path}: ${mib(written)} MiB, checksum ok`);
  }
}
