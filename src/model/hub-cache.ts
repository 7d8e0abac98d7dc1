// The Hugging Face hub cache on disk, laid out as huggingface_hub writes it
// (file_download.py: `_hf_hub_download_to_cache_dir`, `_create_symlink`,
// `_cache_commit_hash_for_specific_revision`), so one volume serves Python tools too:
//
//   $HF_HUB_CACHE/models--org--name/blobs/<etag>             the bytes, named by git SHA-1 or SHA-256
//   $HF_HUB_CACHE/models--org--name/snapshots/<commit>/<path> relative symlink into blobs/ (a copy where
//                                                            the filesystem has no symlinks)
//   $HF_HUB_CACHE/models--org--name/refs/<revision>          the commit a branch (or refs/pr/N) pointed to
//   $HF_HUB_CACHE/.locks/models--org--name/<etag>.lock       Python's lock files (ours sit beside them)

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { DTYPES, ONNX_FILES, REQUIRED_FILES, type Dtype } from './layout.js';

export const COMMIT = /^[0-9a-f]{40}$/;

export function repoFolder(hubCache: string, repo: string): string {
  return join(hubCache, `models--${repo.replace(/\//g, '--')}`);
}

export function snapshotDir(hubCache: string, repo: string, commit: string): string {
  return join(repoFolder(hubCache, repo), 'snapshots', commit);
}

export function blobPath(hubCache: string, repo: string, etag: string): string {
  return join(repoFolder(hubCache, repo), 'blobs', etag);
}

export function lockPath(hubCache: string, repo: string, etag: string): string {
  // Not Python's own `<etag>.lock`: that one is held with flock(2), which Node cannot take.
  return join(hubCache, '.locks', `models--${repo.replace(/\//g, '--')}`, `${etag}.ortos.lock`);
}

/** The commit a branch, tag or refs/pr/N was last seen at, from refs/; a commit id is itself. */
export function readRef(hubCache: string, repo: string, revision: string): string | null {
  if (COMMIT.test(revision)) return revision;
  try {
    const commit = readFileSync(join(repoFolder(hubCache, repo), 'refs', revision), 'utf8').trim();
    return COMMIT.test(commit) ? commit : null;
  } catch {
    return null;
  }
}

/** Records where a revision points; atomic (temporary file and rename), so a reader never sees half a ref. */
export function writeRef(hubCache: string, repo: string, revision: string, commit: string): void {
  if (revision === commit) return;
  const path = join(repoFolder(hubCache, repo), 'refs', revision);
  try {
    if (readFileSync(path, 'utf8') === commit) return;
  } catch {
    // not written yet
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, commit);
  renameSync(tmp, path);
}

/**
 * Points snapshots/<commit>/<path> at the blob: a relative symlink, or, where the filesystem
 * cannot hold symlinks (FAT, some network mounts), a copy made beside it and renamed in place.
 * Returns how it was linked.
 */
export function linkPointer(blob: string, pointer: string): 'symlink' | 'copy' {
  mkdirSync(dirname(pointer), { recursive: true });
  const tmp = `${pointer}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    symlinkSync(relative(dirname(pointer), blob), tmp);
    renameSync(tmp, pointer);
    return 'symlink';
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as { code?: string }).code;
    if (code !== 'EPERM' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EINVAL') throw e;
  }
  try {
    copyContent(blob, tmp);
    renameSync(tmp, pointer);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return 'copy';
}

/**
 * The bytes only: copying a file's mode or times fails on filesystems that have none (FAT
 * through FUSE answers ENOSYS), as huggingface_hub's `_copy_no_matter_what` also found.
 */
function copyContent(src: string, dst: string): void {
  const from = openSync(src, 'r');
  const to = openSync(dst, 'w');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = readSync(from, buf, 0, buf.length, null);
      if (n === 0) break;
      for (let off = 0; off < n;) off += writeSync(to, buf, off, n - off);
    }
  } finally {
    closeSync(from);
    closeSync(to);
  }
}

/** The local snapshot of a revision, if it holds the files a model needs (for `dtype`, or any). */
export function cachedSnapshot(hubCache: string, repo: string, revision: string, dtype?: Dtype, extra: readonly string[] = []): string | null {
  const commit = readRef(hubCache, repo, revision);
  if (commit === null) return null;
  const dir = snapshotDir(hubCache, repo, commit);
  const onnx = (dtype ? ONNX_FILES[dtype] : DTYPES.flatMap((d) => ONNX_FILES[d])).some((f) => existsSync(join(dir, f)));
  return onnx && [...REQUIRED_FILES, ...extra].every((f) => existsSync(join(dir, f))) ? dir : null;
}
