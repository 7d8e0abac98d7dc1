// Everything the tokenizer needs at run time, in a form that a binary file can hold as
// typed arrays (see binary-file.ts) and that `compile` builds from tokenizer.json.

import type { AddedTokenSpec, MetaspaceSpec, PairPiece, TemplatePiece } from './spec.js';

export interface TokenizerMeta {
  unkId: number;
  minScore: number;
  vocabSize: number;
  /** Normalizer steps in order; a Precompiled step uses the charsmap arrays. */
  normalizers: Array<{ type: 'Precompiled' } | { type: 'Replace'; regex: string; content: string }>;
  metaspace: MetaspaceSpec;
  addedTokens: AddedTokenSpec[];
  template: TemplatePiece[];
  templateSpecials: Record<string, number[]>;
  pairTemplate?: PairPiece[];
}

export interface TokenizerArrays {
  trieFirst: Uint32Array;
  trieLabel: Uint32Array;
  trieValue: Int32Array;
  scores: Float32Array;
  charsmapTrie: Uint32Array;
  charsmapPool: Uint8Array;
  charsmapKeyStarts: Uint8Array;
  /** UTF-8 of all pieces back to back; piece i is pieceText[pieceOffsets[i] .. pieceOffsets[i+1]). */
  pieceText: Uint8Array;
  pieceOffsets: Uint32Array;
}

export interface TokenizerData {
  meta: TokenizerMeta;
  arrays: TokenizerArrays;
}
