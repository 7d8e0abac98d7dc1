// onnxruntime-node keeps a usage-telemetry database under ~/.cache/Microsoft/DeveloperTools
// unless ORT_DISABLE_TELEMETRY is set. The service sets it unless the user did: a served
// request leaves nothing under HOME, and a user's own ORT_DISABLE_TELEMETRY=0 is kept (the
// control: it shows the library does write there, so the first check can fail).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { preparedFixture } from '../helpers/models.js';
import { spawnServe } from '../helpers/serve-process.js';

// onnxruntime writes nothing on a CI runner, which it knows by these variables (the names are in
// its library, next to its telemetry code): the control run is given none of them.
const CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER'];

async function serveOnce(home: string, disable: string | undefined): Promise<void> {
  const { modelDir } = await preparedFixture('tiny', 'int8');
  // No inherited value: this test process has loaded onnxruntime, which set it here.
  const notCi = Object.fromEntries(CI_VARIABLES.map((v) => [v, undefined]));
  const s = await spawnServe(['--model-dir', modelDir], { ...notCi, HOME: home, XDG_CACHE_HOME: undefined, ORT_DISABLE_TELEMETRY: disable });
  try {
    await s.waitFor('model ready');
    const r = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'привет' }) });
    assert.equal(r.status, 200);
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
}

test('serving writes no onnxruntime telemetry; a user\'s ORT_DISABLE_TELEMETRY=0 is kept', { timeout: 120_000 }, async () => {
  const quiet = mkdtempSync(join(tmpdir(), 'ortos-home-'));
  const loud = mkdtempSync(join(tmpdir(), 'ortos-home-'));
  try {
    await serveOnce(quiet, undefined);
    assert.equal(existsSync(join(quiet, '.cache', 'Microsoft')), false, 'nothing under ~/.cache/Microsoft');
    await serveOnce(loud, '0');
    assert.equal(existsSync(join(loud, '.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime')), true, 'the library\'s own telemetry, when the user asks for it');
  } finally {
    rmSync(quiet, { recursive: true, force: true });
    rmSync(loud, { recursive: true, force: true });
  }
});
