// The stand-in hub's repositories: files read from a folder, with the ids the real hub gives
// them. Which files are LFS follows the hub's default `.gitattributes` (the patterns every new
// model repo starts with) and its rule that files over 10 MB go to LFS; a repo may name more
// (multilingual-e5-base keeps its 17 MB tokenizer.json in LFS).

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** From the default .gitattributes of a new model repo on huggingface.co. */
const LFS_PATTERNS = [
  /\.(7z|arrow|bin|bz2|ckpt|ftz|gz|h5|joblib|mlmodel|model|msgpack|npy|npz|onnx|ot|parquet|pb|pickle|pkl|pt|pth|rar|safetensors|tar|tflite|tgz|wasm|xz|zip|zst)$/,
  /\.lfs\./, /\.tar\./, /tfevents/, /^saved_model\//, /\.onnx_data$/, /\.onnx\.data$/,
];
const LFS_OVER_BYTES = 10 * 1024 * 1024;

export interface StandInFile {
  path: string;
  data: Buffer;
  lfs: boolean;
  sha256: string;
  /** The git blob id of the content (for an LFS file: of its pointer file). */
  gitSha1: string;
  /** Xet's content hash: another 64-hex id, not the SHA-256 (so a client that takes it for one fails). */
  xetHash: string;
  pointerSize: number;
}

export interface RepoSpec {
  /** org/name */
  id: string;
  folder: string;
  /** The commit `main` points to. */
  commit?: string;
  /** More revisions (`refs/pr/1`, tags, branches): name → commit; they serve the same files. */
  refs?: Record<string, string>;
  gated?: boolean;
  private?: boolean;
  /** Earlier names of the repo: the hub answers them with a relative 307 to the current one. */
  formerly?: string[];
  /** Paths kept in LFS besides the default patterns and files over 10 MB. */
  lfs?: string[];
}

export interface StandInRepo extends RepoSpec {
  commit: string;
  files: StandInFile[];
  /** revision name → commit */
  revisions: Map<string, string>;
  objectId: string;
}

function walk(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name.startsWith('ortos-prepared') || name.startsWith('.')) return [];
    return statSync(p).isDirectory() ? walk(p, root) : [relative(root, p)];
  });
}

const gitBlobId = (data: Buffer): string => createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');

export function loadRepo(spec: RepoSpec): StandInRepo {
  const commit = spec.commit ?? createHash('sha1').update(`commit ${spec.id}`).digest('hex');
  const files = walk(spec.folder).sort().map((path): StandInFile => {
    const data = readFileSync(join(spec.folder, path));
    const lfs = data.length > LFS_OVER_BYTES || LFS_PATTERNS.some((p) => p.test(path)) || (spec.lfs ?? []).includes(path);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${data.length}\n`);
    return {
      path,
      data,
      lfs,
      sha256,
      gitSha1: gitBlobId(lfs ? pointer : data),
      xetHash: createHash('sha256').update('xet-merkle').update(data).digest('hex'),
      pointerSize: pointer.length,
    };
  });
  const revisions = new Map<string, string>([['main', commit], [commit, commit], ...Object.entries(spec.refs ?? {}), ...Object.values(spec.refs ?? {}).map((c): [string, string] => [c, c])]);
  return { ...spec, commit, files, revisions, objectId: createHash('md5').update(spec.id).digest('hex').slice(0, 24) };
}
