// tokenizer.json → TokenizerData. Runs in `prepare` (about a second for 250k pieces), so
// that a cold start only maps typed arrays.

import { computeKeyStarts, splitCharsmap } from './charsmap.js';
import type { TokenizerData, TokenizerMeta } from './data.js';
import { parseTokenizerJson, UnsupportedTokenizerError, type TokenizerSpec } from './spec.js';

interface BuildNode {
  value: number;
  children: Map<number, BuildNode>;
}

function buildTrie(vocab: ReadonlyArray<[string, number]>): { first: Uint32Array; label: Uint32Array; value: Int32Array } {
  const root: BuildNode = { value: -1, children: new Map() };
  let count = 1;
  vocab.forEach(([piece], id) => {
    let node = root;
    for (const ch of piece) {
      const cp = ch.codePointAt(0) as number;
      let next = node.children.get(cp);
      if (next === undefined) {
        next = { value: -1, children: new Map() };
        node.children.set(cp, next);
        count++;
      }
      node = next;
    }
    // A repeated piece keeps the last id, as the reference's hash map does.
    if (piece.length > 0) node.value = id;
  });
  const first = new Uint32Array(count + 1);
  const label = new Uint32Array(count);
  const value = new Int32Array(count);
  const queue: BuildNode[] = [root];
  value[0] = root.value;
  let next = 1;
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    first[i] = next;
    const kids = [...node.children.entries()].sort((a, b) => a[0] - b[0]);
    for (const [cp, kid] of kids) {
      label[next] = cp;
      value[next] = kid.value;
      queue.push(kid);
      next++;
    }
  }
  first[count] = next;
  return { first, label, value };
}

export function compileSpec(spec: TokenizerSpec): TokenizerData {
  const vocabSize = spec.vocab.length;
  if (spec.unkId < 0 || spec.unkId >= vocabSize) throw new UnsupportedTokenizerError(`unk_id ${spec.unkId} is outside the vocabulary`);
  const scores = new Float32Array(vocabSize);
  let minScore = Infinity;
  const texts: Buffer[] = [];
  const pieceOffsets = new Uint32Array(vocabSize + 1);
  let textBytes = 0;
  spec.vocab.forEach(([piece, score], i) => {
    if (Math.fround(score) !== score) {
      // Scores come from SentencePiece as f32; storing f32 is exact only if that holds.
      throw new UnsupportedTokenizerError(`piece ${i} has a score that is not a 32-bit float (${score})`);
    }
    scores[i] = score;
    if (score < minScore) minScore = score;
    const bytes = Buffer.from(piece, 'utf8');
    texts.push(bytes);
    pieceOffsets[i] = textBytes;
    textBytes += bytes.length;
  });
  pieceOffsets[vocabSize] = textBytes;
  const pieceText = new Uint8Array(Buffer.concat(texts, textBytes));
  const trie = buildTrie(spec.vocab);

  let charsmapTrie: Uint32Array = new Uint32Array(0);
  let charsmapPool: Uint8Array = new Uint8Array(0);
  const precompiled = spec.normalizers.filter((n) => n.type === 'Precompiled');
  if (precompiled.length > 1) throw new UnsupportedTokenizerError('more than one Precompiled normalizer');
  const charsmap = precompiled[0]?.charsmap ?? null;
  if (charsmap !== null) ({ trie: charsmapTrie, pool: charsmapPool } = splitCharsmap(charsmap));

  for (const t of spec.addedTokens) {
    if (t.id < 0 || t.id >= vocabSize) throw new UnsupportedTokenizerError(`added token "${t.content}" has id ${t.id} outside the vocabulary`);
  }

  const meta: TokenizerMeta = {
    unkId: spec.unkId,
    minScore,
    vocabSize,
    normalizers: spec.normalizers.flatMap((n): TokenizerMeta['normalizers'] => {
      if (n.type === 'Replace') return [{ type: 'Replace' as const, regex: n.regex, content: n.content }];
      return n.charsmap === null ? [] : [{ type: 'Precompiled' as const }];
    }),
    metaspace: spec.metaspace,
    addedTokens: spec.addedTokens,
    template: spec.template,
    templateSpecials: spec.templateSpecials,
    ...(spec.pairTemplate !== undefined ? { pairTemplate: spec.pairTemplate } : {}),
  };
  return {
    meta,
    arrays: {
      trieFirst: trie.first,
      trieLabel: trie.label,
      trieValue: trie.value,
      scores,
      charsmapTrie,
      charsmapPool,
      charsmapKeyStarts: computeKeyStarts(charsmapTrie),
      pieceText,
      pieceOffsets,
    },
  };
}

export function compileTokenizerJson(text: string): TokenizerData {
  return compileSpec(parseTokenizerJson(text));
}
