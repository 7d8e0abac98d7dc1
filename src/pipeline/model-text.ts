// The model's text side: its files' rules, the tokenizer, and the hash of its manifest, which
// names the prepared model (repo, commit, dtype, rules, the files it was made from) to the
// embedding cache. It reads in milliseconds, before the session is open, so a request the
// cache can answer need not wait for the model.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, PREPARED_FILES, type Manifest } from '../model/manifest.js';
import type { ModelRules } from '../model/rules.js';
import { readTokenizerFile } from '../tokenizer/binary-file.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { Quantizer } from '../vectors/compact.js';

export class ModelText {
  private quantizerMade: Quantizer | undefined;

  private constructor(
    readonly manifest: Manifest,
    readonly tokenizer: Tokenizer,
    /** SHA-256 of the manifest's bytes: a model prepared again (other files, rules, version) has another. */
    readonly manifestHash: string,
  ) {}

  /** `instruction`: the default instruction configured (INSTRUCTION), over the model card's. */
  static load(preparedDir: string, instruction?: string): ModelText {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(preparedDir, MANIFEST_FILE));
    } catch {
      throw new Error(`${preparedDir} holds no prepared model (run "ortos-embed prepare")`);
    }
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    const rules: ModelRules = instruction !== undefined ? { ...manifest.rules, defaultInstruction: instruction } : manifest.rules;
    const tokenizer = new Tokenizer(readTokenizerFile(join(preparedDir, PREPARED_FILES.tokenizer)).data);
    return new ModelText({ ...manifest, rules }, tokenizer, createHash('sha256').update(bytes).digest('hex'));
  }

  /** The hub repo it came from, or the name its folder gives it. */
  get name(): string {
    return this.manifest.origin.repo ?? this.manifest.config.name ?? 'unknown';
  }

  get dimensions(): number {
    return this.manifest.config.hiddenSize;
  }

  /** Pooling, prompts and token limit in force (the default instruction as configured). */
  get rules(): ModelRules {
    return this.manifest.rules;
  }

  get maxTokens(): number {
    return this.manifest.rules.maxTokens;
  }

  /** int8/uint8 from the ranges calibrated at prepare time; undefined for a model without them. */
  get quantizer(): Quantizer | undefined {
    const cal = this.manifest.calibration;
    if (cal === undefined) return undefined;
    this.quantizerMade ??= new Quantizer(cal);
    return this.quantizerMade;
  }
}
