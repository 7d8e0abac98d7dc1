// The .npy format (numpy/lib/format.py, version 1.0): magic, a little-endian uint16 header
// length, a Python dict literal padded with spaces to a multiple of 64 bytes and ending in "\n",
// then the array's bytes in C order. The header is given a fixed 128 bytes, so that the row
// count can be written again in place as rows are appended.

import type { OutputDtype } from '../../vectors/compact.js';

export const NPY_HEADER_BYTES = 128;

/** numpy's dtype string for each output type. */
export function npyDescr(dtype: OutputDtype): string {
  return dtype === 'float' ? '<f4' : dtype === 'int8' || dtype === 'binary' ? '|i1' : '|u1';
}

export function bytesPerElement(dtype: OutputDtype): number {
  return dtype === 'float' ? 4 : 1;
}

export function npyHeader(dtype: OutputDtype, rows: number, width: number): Buffer {
  const dict = `{'descr': '${npyDescr(dtype)}', 'fortran_order': False, 'shape': (${rows}, ${width}), }`;
  const head = Buffer.alloc(NPY_HEADER_BYTES, 0x20);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0]).copy(head, 0);
  head.writeUInt16LE(NPY_HEADER_BYTES - 10, 8);
  if (10 + dict.length + 1 > NPY_HEADER_BYTES) throw new Error(`npy header of ${dict.length} bytes does not fit`);
  head.write(dict, 10, 'latin1');
  head[NPY_HEADER_BYTES - 1] = 0x0a;
  return head;
}
