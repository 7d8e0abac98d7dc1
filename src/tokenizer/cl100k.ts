// OpenAI's cl100k_base token ids back to text. LangChain Python's OpenAIEmbeddings (and Dify)
// send /v1/embeddings arrays of cl100k ids, not text: read as XLM-R ids they would embed
// noise. gpt-tokenizer decodes them; it is loaded only when such a request arrives (85–89 ms
// and +41 MB RSS on one core, against 248–491 ms and +70–125 MB for tiktoken's WASM build and
// js-tiktoken), never on the wake path.

/** Regular tokens are ids 0 … 100255; five special tokens sit above them. */
const CL100K_SPECIAL = new Set([100257, 100258, 100259, 100260, 100276]);
export const CL100K_REGULAR = 100256;

export function isCl100kId(id: number): boolean {
  return Number.isInteger(id) && ((id >= 0 && id < CL100K_REGULAR) || CL100K_SPECIAL.has(id));
}

type Decode = (ids: number[]) => string;
let decoder: Promise<Decode> | null = null;

export function loadCl100k(): Promise<Decode> {
  decoder ??= import('gpt-tokenizer/encoding/cl100k_base').then((m) => (ids: number[]) => m.decode(ids));
  return decoder;
}
