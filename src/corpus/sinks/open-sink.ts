import { JsonlSink } from './jsonl-sink.js';
import { NpySink } from './npy-sink.js';
import { ParquetSink } from './parquet-sink.js';
import type { OutputFormat, SinkOptions, SinkState, VectorSink } from './sink.js';

export function openSink(format: OutputFormat, opts: SinkOptions, at: SinkState): VectorSink {
  if (format === 'npy') return new NpySink(opts, at);
  if (format === 'parquet') return new ParquetSink(opts, at);
  return new JsonlSink(opts, at);
}
