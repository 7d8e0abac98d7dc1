import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../src/settings/errors.js';
import { hubLocations, modelConfig } from '../src/settings/model.js';

const work = mkdtempSync(join(tmpdir(), 'ortos-config-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('the hub cache is found as the Python tools find it: HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, ~/.cache', () => {
  assert.equal(hubLocations({}, {}).hubCache, join(homedir(), '.cache', 'huggingface', 'hub'));
  assert.equal(hubLocations({}, { XDG_CACHE_HOME: '/x' }).hubCache, '/x/huggingface/hub');
  assert.equal(hubLocations({}, { XDG_CACHE_HOME: '/x', HF_HOME: '/data/hf' }).hubCache, '/data/hf/hub');
  assert.equal(hubLocations({}, { HF_HOME: '/data/hf', HF_HUB_CACHE: '/fast/hub' }).hubCache, '/fast/hub');
  assert.equal(hubLocations({ 'hf-home': '/flag' }, { HF_HOME: '/env' }).hubCache, '/flag/hub', 'a flag wins over the environment');
});

test('the token: --hf-token, HF_TOKEN, then the file `hf auth login` writes ($HF_TOKEN_PATH or $HF_HOME/token)', () => {
  const home = join(work, 'hf');
  assert.equal(hubLocations({}, { HF_HOME: home }).token, undefined);
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'token'), 'hf_from_file\n');
  assert.deepEqual(pickToken(hubLocations({}, { HF_HOME: home })), ['hf_from_file', join(home, 'token')]);
  writeFileSync(join(work, 'elsewhere'), 'hf_elsewhere');
  assert.deepEqual(pickToken(hubLocations({}, { HF_HOME: home, HF_TOKEN_PATH: join(work, 'elsewhere') })), ['hf_elsewhere', join(work, 'elsewhere')]);
  assert.deepEqual(pickToken(hubLocations({}, { HF_HOME: home, HF_TOKEN: 'hf_env' })), ['hf_env', 'HF_TOKEN']);
  assert.deepEqual(pickToken(hubLocations({ 'hf-token': 'hf_flag' }, { HF_HOME: home, HF_TOKEN: 'hf_env' })), ['hf_flag', '--hf-token']);
});

test('offline mode names what turned it on; the endpoint and the timeouts are checked', () => {
  assert.equal(modelConfig({ offline: true }, {}).offlineSource, '--offline');
  assert.equal(modelConfig({}, { HF_HUB_OFFLINE: '1' }).offlineSource, 'HF_HUB_OFFLINE=1');
  assert.equal(modelConfig({}, {}).offline, false);
  assert.equal(modelConfig({}, { HF_HUB_DOWNLOAD_TIMEOUT: '2.5' }).stallMs, 2500);
  assert.throws(() => modelConfig({}, { HF_ENDPOINT: 'ftp://mirror' }), ConfigError);
  assert.throws(() => modelConfig({}, { HF_HUB_ETAG_TIMEOUT: 'soon' }), /HF_HUB_ETAG_TIMEOUT must be a number of seconds/);
  assert.throws(() => modelConfig({ model: 'no-slash' }, {}), /ORG\/NAME/);
  assert.deepEqual(modelConfig({ model: 'a/b@refs/pr/3' }, {}).model, { repo: 'a/b', revision: 'refs/pr/3' });
});

function pickToken(l: { token?: string; tokenSource?: string }): [string | undefined, string | undefined] {
  return [l.token, l.tokenSource];
}
