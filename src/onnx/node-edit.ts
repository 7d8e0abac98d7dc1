// Rewriting one node of a graph read by reader.ts: the same node with other inputs, every
// other field (op, outputs, name, attributes) copied byte for byte.

import { fields, type Field } from './reader.js';
import { Msg } from './writer.js';

export function withInputs(node: Field, inputs: string[]): Msg {
  const m = new Msg();
  for (const i of inputs) m.string(1, i);
  for (const f of fields(node.bytes)) if (f.field !== 1) m.raw(f.raw);
  return m;
}
