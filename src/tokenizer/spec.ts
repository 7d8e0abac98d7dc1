// The subset of Hugging Face's tokenizer.json that XLM-R / e5 tokenizers use, read into
// plain data. Anything outside the subset is refused by name: a silent fallback would
// give ids that differ from the reference without anyone noticing.

export type PrependScheme = 'always' | 'first' | 'never';

export interface AddedTokenSpec {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export type NormalizerStep =
  | { type: 'Precompiled'; charsmap: Uint8Array | null }
  | { type: 'Replace'; regex: string; content: string };

export interface MetaspaceSpec {
  replacement: string;
  prependScheme: PrependScheme;
  split: boolean;
}

export type TemplatePiece = { special: string } | { sequence: 'A' };
/** A piece of the pair template, with the token type its tokens get (BERT: 1 for the second sequence). */
export type PairPiece = { special: string; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

export interface TokenizerSpec {
  normalizers: NormalizerStep[];
  metaspace: MetaspaceSpec;
  vocab: Array<[string, number]>;
  unkId: number;
  addedTokens: AddedTokenSpec[];
  template: TemplatePiece[];
  /** Special token name → ids it expands to in the template. */
  templateSpecials: Record<string, number[]>;
  /** How two sequences are joined (a cross-encoder's query and passage), when the file says. */
  pairTemplate?: PairPiece[];
}

export class UnsupportedTokenizerError extends Error {
  constructor(what: string) {
    super(`unsupported tokenizer.json: ${what} (ortos-embed reads the XLM-R / e5 subset: ` +
      'Precompiled/Replace normalizers, Metaspace, Unigram, TemplateProcessing)');
    this.name = 'UnsupportedTokenizerError';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(obj: JsonObject, key: string, where: string): Json {
  if (!(key in obj)) throw new UnsupportedTokenizerError(`${where} has no "${key}"`);
  return obj[key];
}

function str(v: Json | undefined, where: string): string {
  if (typeof v !== 'string') throw new UnsupportedTokenizerError(`${where} must be a string`);
  return v;
}

function bool(v: Json | undefined, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

function readNormalizer(n: Json, out: NormalizerStep[]): void {
  if (n === null) return;
  if (!isObject(n)) throw new UnsupportedTokenizerError('normalizer is not an object');
  const type = str(n.type, 'normalizer.type');
  switch (type) {
    case 'Sequence': {
      const list = field(n, 'normalizers', 'Sequence normalizer');
      if (!Array.isArray(list)) throw new UnsupportedTokenizerError('Sequence.normalizers is not a list');
      for (const child of list) readNormalizer(child, out);
      return;
    }
    case 'Precompiled': {
      const b64 = n.precompiled_charsmap;
      out.push({
        type: 'Precompiled',
        charsmap: typeof b64 === 'string' && b64.length > 0 ? new Uint8Array(Buffer.from(b64, 'base64')) : null,
      });
      return;
    }
    case 'Replace': {
      const pattern = field(n, 'pattern', 'Replace normalizer');
      if (!isObject(pattern)) throw new UnsupportedTokenizerError('Replace.pattern is not an object');
      let regex: string;
      if (typeof pattern.Regex === 'string') regex = pattern.Regex;
      else if (typeof pattern.String === 'string') regex = pattern.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      else throw new UnsupportedTokenizerError('Replace.pattern must be {Regex} or {String}');
      out.push({ type: 'Replace', regex, content: str(n.content, 'Replace.content') });
      return;
    }
    default:
      throw new UnsupportedTokenizerError(`normalizer type "${type}"`);
  }
}

function readMetaspace(p: Json): MetaspaceSpec {
  if (!isObject(p)) throw new UnsupportedTokenizerError('pre_tokenizer is missing (Metaspace expected)');
  const type = str(p.type, 'pre_tokenizer.type');
  if (type === 'Sequence' && Array.isArray(p.pretokenizers) && p.pretokenizers.length === 1) {
    return readMetaspace(p.pretokenizers[0]);
  }
  if (type !== 'Metaspace') throw new UnsupportedTokenizerError(`pre_tokenizer type "${type}"`);
  const replacement = str(p.replacement, 'Metaspace.replacement');
  if ([...replacement].length !== 1) throw new UnsupportedTokenizerError('Metaspace.replacement must be one character');
  let prependScheme: PrependScheme;
  if (typeof p.prepend_scheme === 'string') {
    if (p.prepend_scheme !== 'always' && p.prepend_scheme !== 'first' && p.prepend_scheme !== 'never') {
      throw new UnsupportedTokenizerError(`Metaspace.prepend_scheme "${p.prepend_scheme}"`);
    }
    prependScheme = p.prepend_scheme;
  } else {
    // The older form: add_prefix_space true meant "always".
    prependScheme = bool(p.add_prefix_space, true) ? 'always' : 'never';
  }
  return { replacement, prependScheme, split: bool(p.split, true) };
}

function readPair(p: Record<string, Json>): PairPiece[] | undefined {
  const pair = p.pair;
  if (!Array.isArray(pair)) return undefined;
  const type = (x: Json): number => (typeof x === 'number' ? x : 0);
  return pair.map((piece) => {
    if (isObject(piece) && isObject(piece.SpecialToken)) return { special: str(piece.SpecialToken.id, 'SpecialToken.id'), typeId: type(piece.SpecialToken.type_id) };
    if (isObject(piece) && isObject(piece.Sequence) && (piece.Sequence.id === 'A' || piece.Sequence.id === 'B')) return { sequence: piece.Sequence.id, typeId: type(piece.Sequence.type_id) };
    throw new UnsupportedTokenizerError('TemplateProcessing.pair piece');
  });
}

function readTemplate(p: Json): { template: TemplatePiece[]; specials: Record<string, number[]>; pair?: PairPiece[] } {
  if (p === null) return { template: [{ sequence: 'A' }], specials: {} };
  if (!isObject(p)) throw new UnsupportedTokenizerError('post_processor is not an object');
  const type = str(p.type, 'post_processor.type');
  if (type !== 'TemplateProcessing') throw new UnsupportedTokenizerError(`post_processor type "${type}"`);
  const single = field(p, 'single', 'TemplateProcessing');
  if (!Array.isArray(single)) throw new UnsupportedTokenizerError('TemplateProcessing.single is not a list');
  const template: TemplatePiece[] = single.map((piece) => {
    if (isObject(piece) && isObject(piece.SpecialToken)) return { special: str(piece.SpecialToken.id, 'SpecialToken.id') };
    if (isObject(piece) && isObject(piece.Sequence)) {
      if (piece.Sequence.id !== 'A') throw new UnsupportedTokenizerError('TemplateProcessing.single uses a second sequence');
      return { sequence: 'A' as const };
    }
    throw new UnsupportedTokenizerError('TemplateProcessing piece');
  });
  const specials: Record<string, number[]> = {};
  const table = p.special_tokens;
  if (isObject(table)) {
    for (const [name, v] of Object.entries(table)) {
      if (!isObject(v) || !Array.isArray(v.ids)) throw new UnsupportedTokenizerError(`special token "${name}"`);
      specials[name] = v.ids.map((x) => {
        if (typeof x !== 'number') throw new UnsupportedTokenizerError(`special token "${name}" ids`);
        return x;
      });
    }
  }
  const pair = readPair(p);
  for (const piece of [...template, ...(pair ?? [])]) {
    if ('special' in piece && !(piece.special in specials)) {
      throw new UnsupportedTokenizerError(`template names special token "${piece.special}" with no ids`);
    }
  }
  return { template, specials, ...(pair !== undefined ? { pair } : {}) };
}

export function parseTokenizerJson(text: string): TokenizerSpec {
  let root: Json;
  try {
    root = JSON.parse(text) as Json;
  } catch (e) {
    throw new UnsupportedTokenizerError(`not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(root)) throw new UnsupportedTokenizerError('top level is not an object');
  const model = field(root, 'model', 'tokenizer.json');
  if (!isObject(model)) throw new UnsupportedTokenizerError('model is not an object');
  const modelType = str(model.type, 'model.type');
  if (modelType !== 'Unigram') throw new UnsupportedTokenizerError(`model type "${modelType}"`);
  if (model.byte_fallback === true) throw new UnsupportedTokenizerError('Unigram with byte_fallback');
  if (typeof model.unk_id !== 'number') throw new UnsupportedTokenizerError('Unigram without unk_id');
  const rawVocab = field(model, 'vocab', 'Unigram');
  if (!Array.isArray(rawVocab)) throw new UnsupportedTokenizerError('Unigram.vocab is not a list');
  const vocab: Array<[string, number]> = rawVocab.map((entry, i) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      throw new UnsupportedTokenizerError(`Unigram.vocab[${i}] is not [piece, score]`);
    }
    return [entry[0], entry[1]];
  });

  const normalizers: NormalizerStep[] = [];
  readNormalizer(root.normalizer ?? null, normalizers);
  const { template, specials, pair } = readTemplate(root.post_processor ?? null);

  const addedTokens: AddedTokenSpec[] = [];
  if (Array.isArray(root.added_tokens)) {
    for (const t of root.added_tokens) {
      if (!isObject(t) || typeof t.id !== 'number') throw new UnsupportedTokenizerError('added_tokens entry');
      addedTokens.push({
        id: t.id,
        content: str(t.content, 'added token content'),
        singleWord: bool(t.single_word, false),
        lstrip: bool(t.lstrip, false),
        rstrip: bool(t.rstrip, false),
        normalized: bool(t.normalized, !bool(t.special, false)),
        special: bool(t.special, false),
      });
    }
  }
  if (addedTokens.some((t) => t.singleWord)) throw new UnsupportedTokenizerError('added token with single_word');
  if (addedTokens.some((t) => t.normalized)) throw new UnsupportedTokenizerError('added token matched after normalization');

  return {
    normalizers,
    metaspace: readMetaspace(root.pre_tokenizer ?? null),
    vocab,
    unkId: model.unk_id,
    addedTokens,
    template,
    templateSpecials: specials,
    ...(pair !== undefined ? { pairTemplate: pair } : {}),
  };
}
