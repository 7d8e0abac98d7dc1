// Where HF_TOKEN goes, by the real host names (no network, no qemu): to the hub's own hosts
// and the configured endpoint (a mirror), never to the LFS and Xet CDNs under the same domain
// (cdn-lfs.hf.co, cdn-lfs-us-1.hf.co, cas-bridge.xethub.hf.co answer pre-signed URLs and
// reject a request that carries Authorization; huggingface_hub's hub hosts are
// constants.HF_URL_HOSTS, issue #4637 / PR #4739; hf-hub PR #176), nor to look-alike hosts. The redirect walk is run
// with a fetch that answers as the hub does (a 302 from huggingface.co to the CDN with
// X-Linked-Etag) and records what each host was sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HubHttp, KNOWN_HUB_HOSTS } from '../../src/model/hub-http.js';

const TOKEN = 'hf_test_token_0123456789';
const http = (endpoint: string, hubHosts?: string[]): HubHttp => new HubHttp({ endpoint, token: TOKEN, hubHosts, log: () => {} });

const HUB = ['https://huggingface.co/api/models/intfloat/multilingual-e5-base', 'https://hf.co/intfloat/multilingual-e5-base/resolve/main/config.json',
  'https://hub-ci.huggingface.co/api/models/x', 'https://huggingface.co/api/resolve-cache/models/intfloat/multilingual-e5-base/abc/config.json?etag=%22x%22'];
const NOT_HUB = ['https://cdn-lfs.hf.co/repos/ab/cd/abcdef?X-Amz-Signature=1', 'https://cdn-lfs-us-1.hf.co/repos/ab/cd/abcdef', 'https://cas-bridge.xethub.hf.co/xet-bridge-us/abc',
  'https://cdn-lfs.huggingface.co/repos/ab', 'https://transfer.xethub.hf.co/x', 'https://huggingface.co.evil.example/api/models/x', 'https://evilhuggingface.co/x',
  'https://hf.co.attacker.example/x', 'https://huggingface.co:8443/x', 'http://127.0.0.1:9/x', 'https://hf-mirror.com/api/models/x'];

test('the token goes to huggingface.co, hf.co and hub-ci only, by default endpoint', () => {
  const h = http('https://huggingface.co');
  assert.deepEqual([...KNOWN_HUB_HOSTS], ['huggingface.co', 'hf.co', 'hub-ci.huggingface.co']);
  for (const url of HUB) {
    assert.equal(h.isHub(url), true, url);
    assert.equal(h.headersFor(url).authorization, `Bearer ${TOKEN}`, url);
  }
  for (const url of NOT_HUB) {
    assert.equal(h.isHub(url), false, url);
    assert.equal(h.headersFor(url).authorization, undefined, `no token to ${url}`);
  }
});

test('with a mirror as HF_ENDPOINT the mirror gets the token too (it may 308 to huggingface.co); the CDNs still do not', () => {
  const h = http('https://hf-mirror.com/');
  assert.equal(h.headersFor('https://hf-mirror.com/api/models/x').authorization, `Bearer ${TOKEN}`);
  assert.equal(h.headersFor('https://huggingface.co/api/models/x').authorization, `Bearer ${TOKEN}`);
  for (const url of NOT_HUB.filter((u) => !u.startsWith('https://hf-mirror.com'))) assert.equal(h.headersFor(url).authorization, undefined, url);
  assert.equal(h.url('/api/models/x'), 'https://hf-mirror.com/api/models/x');
});

test('no token set: no Authorization anywhere', () => {
  const h = new HubHttp({ endpoint: 'https://huggingface.co', log: () => {} });
  for (const url of [...HUB, ...NOT_HUB]) assert.equal(h.headersFor(url).authorization, undefined, url);
  assert.equal(h.hasToken, false);
});

test('a redirect from the hub to the Xet CDN: metadata stops at the 302; a download follows it without the token', async () => {
  const seen: Array<{ url: string; authorization: string | undefined }> = [];
  const cdn = 'https://cas-bridge.xethub.hf.co/xet-bridge-us/abc?X-Xet-Signed=1';
  const fakeNet = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    seen.push({ url, authorization: headers.authorization });
    if (url.startsWith('https://huggingface.co/')) {
      return new Response(null, { status: 302, headers: { location: cdn, 'x-linked-etag': '"abc"', 'x-linked-size': '5' } });
    }
    return new Response('hello', { status: 200 });
  }) as typeof fetch;
  const h = new HubHttp({ endpoint: 'https://huggingface.co', token: TOKEN, log: () => {}, fetch: fakeNet });
  const url = 'https://huggingface.co/intfloat/multilingual-e5-base/resolve/main/onnx/model.onnx';
  const meta = await h.once(url, 'HEAD', {}, true);
  assert.equal(meta.res.status, 302);
  assert.equal(meta.url, url);
  assert.deepEqual(seen, [{ url, authorization: `Bearer ${TOKEN}` }]);
  seen.length = 0;
  const body = await h.once(url, 'GET', {}, false);
  assert.equal(await body.res.text(), 'hello');
  assert.deepEqual(seen, [{ url, authorization: `Bearer ${TOKEN}` }, { url: cdn, authorization: undefined }]);
});

test('Retry-After in seconds and the RateLimit header (huggingface_hub _http_backoff_base): how long to wait', async () => {
  const { retryAfterSeconds } = await import('../../src/model/hub-http.js');
  const h = (o: Record<string, string>): Headers => new Headers(o);
  assert.equal(retryAfterSeconds(h({ 'retry-after': '7' })), 7);
  assert.equal(retryAfterSeconds(h({ 'retry-after': ' 12 ' })), 12);
  assert.equal(retryAfterSeconds(h({ 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' })), null, 'a date is not read as seconds');
  assert.equal(retryAfterSeconds(h({ 'retry-after': '1.5' })), null);
  assert.equal(retryAfterSeconds(h({})), null);
  assert.equal(retryAfterSeconds(h({ ratelimit: '"api";r=0;t=55' })), 55, 'no requests left: wait until the window resets');
  assert.equal(retryAfterSeconds(h({ ratelimit: '"api";r=3;t=55', 'retry-after': '2' })), 2, 'requests left: the RateLimit header does not apply');
  assert.equal(retryAfterSeconds(h({ ratelimit: '"api" ; r = 0 ; t = 9' })), 9);
});

test('every hub request says who it is and asks for the bytes as stored (sizes are the file\'s, not a gzip body\'s)', () => {
  const h = http('https://huggingface.co');
  const headers = h.headersFor('https://huggingface.co/api/models/x', { range: 'bytes=5-' });
  assert.deepEqual(headers, { 'user-agent': 'ortos-embed', 'accept-encoding': 'identity', authorization: `Bearer ${TOKEN}`, range: 'bytes=5-' });
  assert.equal(h.hasToken, true);
});

test('the endpoint: trailing slashes and a leading slash of a path do not double; extra hub hosts get the token', () => {
  const h = http('https://hf-mirror.com///', ['hub.internal.example:8443']);
  assert.equal(h.url('/api/models/x'), 'https://hf-mirror.com/api/models/x');
  assert.equal(h.url('api/models/x'), 'https://hf-mirror.com/api/models/x');
  assert.equal(h.endpoint.toString(), 'https://hf-mirror.com/');
  assert.equal(h.headersFor('https://hub.internal.example:8443/x').authorization, `Bearer ${TOKEN}`);
  assert.equal(h.headersFor('https://hub.internal.example/x').authorization, undefined, 'another port is another host');
  const sub = http('https://example.org/hf/');
  assert.equal(sub.url('/api/models/x'), 'https://example.org/hf/api/models/x', 'an endpoint with a path keeps it');
});

test('retries: 5xx answers are retried the default 5 times after a wait, then the error names the file', async () => {
  const { HubError } = await import('../../src/model/hub-http.js');
  let calls = 0;
  const failing = (async () => {
    calls++;
    return new Response('down', { status: 503 });
  }) as typeof fetch;
  const logs: string[] = [];
  const h = new HubHttp({ endpoint: 'https://huggingface.co', log: (m) => logs.push(m), fetch: failing, retry: { baseMs: 1, maxMs: 1 } });
  await assert.rejects(h.request('https://huggingface.co/api/models/org/repo', { repo: 'org/repo', revision: 'main', path: 'config.json' }), (e: unknown) =>
    e instanceof HubError && e.transient && /answered HTTP 503 for org\/repo@main config\.json 6 times/.test(e.message));
  assert.equal(calls, 6, 'the first try and 5 retries');
  assert.equal(logs.length, 5);
  // A retry waits (at least) its backoff first.
  calls = 0;
  const slow = new HubHttp({ endpoint: 'https://huggingface.co', log: () => {}, fetch: failing, retry: { max: 1, baseMs: 60, maxMs: 60 } });
  const t0 = performance.now();
  await assert.rejects(slow.request('https://huggingface.co/api/models/org/repo', { repo: 'org/repo' }));
  assert.ok(performance.now() - t0 >= 55, 'waited before the retry');
  assert.equal(calls, 2);
  // A connection that cannot be made: the message says where and what to do offline.
  const unreachable = new HubHttp({ endpoint: 'https://huggingface.co', log: () => {}, retry: { max: 0 }, fetch: (async () => {
    throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
  }) as typeof fetch });
  await assert.rejects(unreachable.request('https://huggingface.co/x', { repo: 'org/repo', revision: 'v1' }), (e: unknown) =>
    e instanceof HubError && e.message.startsWith('cannot reach https://huggingface.co: the name huggingface.co does not resolve (ENOTFOUND; no network, or HF_ENDPOINT misspelled), for org/repo@v1. Without it: HF_HUB_OFFLINE=1'));
  await assert.rejects(unreachable.request('https://huggingface.co/x', { repo: 'org/repo' }), (e: unknown) =>
    e instanceof HubError && /, for org\/repo\. Without it/.test(e.message), 'no revision, no path: the repo alone');
  // A name that does not resolve fails at once, whatever the retry budget, and names the ways in without the hub.
  calls = 0;
  const offline = new HubHttp({ endpoint: 'https://huggingface.co', log: () => {}, fetch: (async () => {
    calls++;
    throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
  }) as typeof fetch });
  await assert.rejects(offline.request('https://huggingface.co/x', { repo: 'org/repo' }), (e: unknown) =>
    e instanceof HubError && /npm run -s fixture -- --size e5-base/.test(e.message) && /--model-dir DIR/.test(e.message));
  assert.equal(calls, 1, 'no retries');
  // A connection refused is worth retrying (a restarting proxy): it is, and then names the same ways.
  calls = 0;
  const refused = new HubHttp({ endpoint: 'https://huggingface.co', log: () => {}, retry: { max: 2, baseMs: 1, maxMs: 1 }, fetch: (async () => {
    calls++;
    throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
  }) as typeof fetch });
  await assert.rejects(refused.request('https://huggingface.co/x', { repo: 'org/repo' }), (e: unknown) =>
    e instanceof HubError && e.message.startsWith('cannot reach https://huggingface.co (ECONNREFUSED) for org/repo. Without it: HF_HUB_OFFLINE=1'));
  assert.equal(calls, 3);
});
