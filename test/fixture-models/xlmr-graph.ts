// The ONNX graph of XLMRobertaModel as the Hugging Face export writes it (opset 14:
// LayerNorm and erf-GELU decomposed into primitive ops, position ids computed from the
// input ids with padding id 1), in fp32 or with onnxruntime's dynamic int8 pattern; or of
// BertModel (positions 0…n-1 from the sequence length, a token_type_ids input), the
// architecture of multilingual-e5-small.

import { DataType, type Graph, type Node, type Tensor } from '../../src/onnx/writer.js';
import { quantizeInt8, type Linear, type Norm, type XlmrWeights } from './xlmr-weights.js';

export type FixtureDtype = 'fp32' | 'int8';

const FLOAT_MIN = -3.4028234663852886e38;

class Builder {
  nodes: Node[] = [];
  inits: Tensor[] = [];
  private n = 0;

  node(op: string, inputs: string[], attrs?: Node['attrs'], outputs = 1): string[] {
    const name = `${op}_${this.n++}`;
    const outs = Array.from({ length: outputs }, (_, i) => `${name}_out${i}`);
    this.nodes.push({ op, inputs, outputs: outs, name, attrs });
    return outs;
  }

  one(op: string, inputs: string[], attrs?: Node['attrs']): string {
    return this.node(op, inputs, attrs)[0];
  }

  init(name: string, type: Tensor['type'], dims: number[], data: Tensor['data']): string {
    this.inits.push({ name, type, dims, data });
    return name;
  }

  f32(name: string, dims: number[], data: Float32Array | number[]): string {
    return this.init(name, DataType.FLOAT, dims, data instanceof Float32Array ? data : Float32Array.from(data));
  }

  i64(name: string, dims: number[], data: number[]): string {
    return this.init(name, DataType.INT64, dims, BigInt64Array.from(data.map(BigInt)));
  }
}

export interface GraphOptions {
  /** Add a token_type_ids input (some exports have one even though XLM-R has a single type). */
  tokenTypeInput?: boolean;
  /** Look up word embeddings through an Identity of input_ids: a form prepare does not take apart. */
  unusualLookup?: boolean;
}

export function buildXlmrGraph(w: XlmrWeights, dtype: FixtureDtype, opts: GraphOptions = {}): Graph {
  const s = w.shape;
  const H = s.hidden;
  const dh = H / s.heads;
  const b = new Builder();

  const pad = b.i64('pad_id', [], [s.padId]);
  const one64 = b.i64('axis_1', [], [1]);
  const two = b.f32('const_two', [], [2]);
  const half = b.f32('const_half', [], [0.5]);
  const onef = b.f32('const_one', [], [1]);
  const sqrt2 = b.f32('const_sqrt2', [], [Math.SQRT2]);
  const epsT = b.f32('const_eps', [], [s.eps]);
  const scale = b.f32('const_attn_scale', [], [Math.sqrt(dh)]);
  const fmin = b.f32('const_float_min', [], [FLOAT_MIN]);
  const heads4 = b.i64('shape_heads', [4], [0, 0, s.heads, dh]);
  const merge3 = b.i64('shape_merge', [3], [0, 0, H]);
  const axes12 = b.i64('axes_1_2', [2], [1, 2]);

  const layerNorm = (x: string, n: Norm, name: string): string => {
    const mean = b.one('ReduceMean', [x], { axes: [-1], keepdims: 1 });
    const d = b.one('Sub', [x, mean]);
    const variance = b.one('ReduceMean', [b.one('Pow', [d, two])], { axes: [-1], keepdims: 1 });
    const std = b.one('Sqrt', [b.one('Add', [variance, epsT])]);
    const normed = b.one('Div', [d, std]);
    return b.one('Add', [b.one('Mul', [normed, b.f32(`${name}.weight`, [H], n.gamma)]), b.f32(`${name}.bias`, [H], n.beta)]);
  };

  const linear = (x: string, l: Linear, name: string): string => {
    let y: string;
    if (dtype === 'fp32') {
      y = b.one('MatMul', [x, b.f32(`${name}.weight`, [l.rows, l.cols], l.w)]);
    } else {
      const { q, scale: ws } = quantizeInt8(l.w);
      const wq = b.init(`${name}.weight_quantized`, DataType.INT8, [l.rows, l.cols], q);
      const wz = b.init(`${name}.weight_zero_point`, DataType.INT8, [], new Int8Array(1));
      const wsT = b.f32(`${name}.weight_scale`, [], [ws]);
      const [xq, xs, xz] = b.node('DynamicQuantizeLinear', [x], undefined, 3);
      const mm = b.one('MatMulInteger', [xq, wq, xz, wz]);
      const asFloat = b.one('Cast', [mm], { to: DataType.FLOAT });
      y = b.one('Mul', [asFloat, b.one('Mul', [xs, wsT])]);
    }
    return b.one('Add', [y, b.f32(`${name}.bias`, [l.cols], l.b)]);
  };

  // Embeddings.
  const lookupIds = opts.unusualLookup ? b.one('Identity', ['input_ids']) : 'input_ids';
  let word: string;
  if (dtype === 'fp32') {
    word = b.one('Gather', [b.f32('embeddings.word_embeddings.weight', [s.vocab, H], w.word), lookupIds], { axis: 0 });
  } else {
    const { q, scale: ws } = quantizeInt8(w.word);
    const table = b.init('embeddings.word_embeddings.weight_quantized', DataType.INT8, [s.vocab, H], q);
    const g = b.one('Gather', [table, lookupIds], { axis: 0 });
    word = b.one('DequantizeLinear', [g, b.f32('embeddings.word_embeddings.weight_scale', [], [ws]), b.init('embeddings.word_embeddings.weight_zero_point', DataType.INT8, [], new Int8Array(1))]);
  }
  const bert = s.arch === 'bert';
  let positions: string;
  if (bert) {
    // BertModel: position_ids[:, :seq_len] of the buffer 0, 1, 2, … (the same for every row).
    const seqLen = b.one('Gather', [b.one('Shape', ['input_ids']), b.i64('index_1', [], [1])], { axis: 0 });
    positions = b.one('Unsqueeze', [b.one('Range', [b.i64('zero_i64', [], [0]), seqLen, b.i64('one_i64', [], [1])]), b.i64('axes_0', [1], [0])]);
  } else {
    const notPad = b.one('Cast', [b.one('Not', [b.one('Equal', ['input_ids', pad])])], { to: DataType.INT64 });
    positions = b.one('Add', [b.one('Mul', [b.one('CumSum', [notPad, one64]), notPad]), pad]);
  }
  const pos = b.one('Gather', [b.f32('embeddings.position_embeddings.weight', [s.positions, H], w.position), positions], { axis: 0 });
  const typeRows = w.tokenType.length / H;
  const typeInput = opts.tokenTypeInput || bert;
  const typeEmb = typeInput
    ? b.one('Gather', [b.f32('embeddings.token_type_embeddings.weight', [typeRows, H], w.tokenType), 'token_type_ids'], { axis: 0 })
    : b.f32('embeddings.token_type_embeddings.row0', [H], w.tokenType.subarray(0, H));
  const emb = b.one('Add', [b.one('Add', [word, pos]), typeEmb]);
  let x = layerNorm(emb, w.embNorm, 'embeddings.LayerNorm');

  // Additive attention mask: 0 for tokens, the float minimum for padding.
  const maskF = b.one('Cast', ['attention_mask'], { to: DataType.FLOAT });
  const mask4 = b.one('Unsqueeze', [maskF, axes12]);
  const maskBias = b.one('Mul', [b.one('Sub', [onef, mask4]), fmin]);

  w.layers.forEach((L, i) => {
    const p = `encoder.layer.${i}`;
    const split = (t: string, perm: number[]): string => b.one('Transpose', [b.one('Reshape', [t, heads4])], { perm });
    const q = split(linear(x, L.q, `${p}.attention.self.query`), [0, 2, 1, 3]);
    const k = split(linear(x, L.k, `${p}.attention.self.key`), [0, 2, 3, 1]);
    const v = split(linear(x, L.v, `${p}.attention.self.value`), [0, 2, 1, 3]);
    const scores = b.one('Add', [b.one('Div', [b.one('MatMul', [q, k]), scale]), maskBias]);
    const probs = b.one('Softmax', [scores], { axis: -1 });
    const ctx = b.one('Reshape', [b.one('Transpose', [b.one('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), merge3]);
    const attn = linear(ctx, L.attnOut, `${p}.attention.output.dense`);
    const x1 = layerNorm(b.one('Add', [attn, x]), L.attnNorm, `${p}.attention.output.LayerNorm`);
    const h = linear(x1, L.ffnIn, `${p}.intermediate.dense`);
    const gelu = b.one('Mul', [b.one('Mul', [h, b.one('Add', [b.one('Erf', [b.one('Div', [h, sqrt2])]), onef])]), half]);
    const o = linear(gelu, L.ffnOut, `${p}.output.dense`);
    x = layerNorm(b.one('Add', [o, x1]), L.outNorm, `${p}.output.LayerNorm`);
  });
  const head = w.classifier;
  if (head !== undefined) {
    // features[:, 0, :] → dense → tanh → out_proj, as the export of *ForSequenceClassification.
    const first = b.one('Gather', [x, b.i64('index_0', [], [0])], { axis: 1 });
    const dense = b.one('Tanh', [linear(first, head.dense, 'classifier.dense')]);
    b.nodes.push({ op: 'Identity', inputs: [linear(dense, head.out, 'classifier.out_proj')], outputs: ['logits'], name: 'output_identity' });
  } else {
    b.nodes.push({ op: 'Identity', inputs: [x], outputs: ['last_hidden_state'], name: 'output_identity' });
  }

  return {
    name: 'main_graph',
    nodes: b.nodes,
    initializers: b.inits,
    inputs: [
      { name: 'input_ids', type: DataType.INT64, dims: ['batch_size', 'sequence_length'] },
      { name: 'attention_mask', type: DataType.INT64, dims: ['batch_size', 'sequence_length'] },
      ...(typeInput ? [{ name: 'token_type_ids', type: DataType.INT64, dims: ['batch_size', 'sequence_length'] }] : []),
    ],
    outputs: head !== undefined
      ? [{ name: 'logits', type: DataType.FLOAT, dims: ['batch_size', head.out.cols] }]
      : [{ name: 'last_hidden_state', type: DataType.FLOAT, dims: ['batch_size', 'sequence_length', H] }],
  };
}
