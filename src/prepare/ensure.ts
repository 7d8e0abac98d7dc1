// Gets a usable prepared model: the local folder or the hub snapshot (downloaded if
// needed), prepared if the prepared form is missing or stale.

import type { ModelConfigOptions } from '../settings/model.js';
import { HubClient } from '../model/hub.js';
import { resolveModelDir, type ModelFiles } from '../model/layout.js';
import { readManifest, selfContainedReason, type Manifest } from '../model/manifest.js';
import { onnxruntimeVersion } from '../version.js';
import { defaultPreparedDir, prepareModel, type Log, type PrepareOptions, type PrepareResult } from './prepare.js';

export interface ReadyModel {
  prepared: PrepareResult;
  origin: Manifest['origin'];
}

export async function locateModel(cfg: ModelConfigOptions, log: Log): Promise<{ files: ModelFiles; origin: Manifest['origin'] }> {
  if (cfg.modelDir !== undefined) return { files: resolveModelDir(cfg.modelDir, cfg.dtype), origin: {} };
  const hub = new HubClient({
    hubCache: cfg.hubCache,
    endpoint: cfg.endpoint,
    token: cfg.token,
    offline: cfg.offline,
    offlineSource: cfg.offlineSource,
    stallMs: cfg.stallMs,
    metadataTimeoutMs: cfg.metadataTimeoutMs,
    log,
  });
  const snap = await hub.snapshot(cfg.model, cfg.dtype);
  return { files: resolveModelDir(snap.dir, cfg.dtype), origin: { repo: snap.repo, revision: snap.commit } };
}

export async function ensurePrepared(cfg: ModelConfigOptions, log: Log, opts: PrepareOptions = {}): Promise<ReadyModel> {
  // An explicit --prepared-dir without --model-dir may stand alone: an image can ship only
  // the prepared form (half the bytes) and never look for the source.
  if (cfg.preparedDir !== undefined && cfg.modelDir === undefined && !opts.force && !opts.prepack) {
    const m = readManifest(cfg.preparedDir);
    if (m !== null && cfg.dtype !== undefined && m.dtype !== cfg.dtype) {
      throw new Error(`${cfg.preparedDir} holds the ${m.dtype} form, and --dtype (DTYPE) asks for ${cfg.dtype}: a prepared folder serves the form it was prepared in ` +
        `(prepare it again with --dtype ${cfg.dtype}; for the image store, build with --build-arg DTYPE=${cfg.dtype})`);
    }
    if (m !== null && selfContainedReason(cfg.preparedDir, onnxruntimeVersion(), m) === null) {
      return { prepared: { dir: cfg.preparedDir, reused: true, reason: null, ms: 0 }, origin: m.origin };
    }
  }
  const { files, origin } = await locateModel(cfg, log);
  const prepared = await prepareModel(files, cfg.preparedDir ?? defaultPreparedDir(files.dir, files.dtype), origin, log, opts);
  return { prepared, origin };
}
