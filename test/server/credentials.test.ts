import { join } from 'node:path';
import { Writable } from 'node:stream';
import { QdrantClient } from '@qdrant/js-client-rest';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseServeArgs } from '../../src/server/config.js';
import { startServe, type RunningServer } from '../../src/server/serve.js';
import { PUBLISH_DELAY_MS } from '../../src/auth/issuing-keys.js';
import { tempDir } from '../helpers/tmp.js';
import { call, devCertificatePaths, type Reply } from './harness.js';
import type { DevCertificates } from '../../src/server/dev-certs.js';

/**
 * Credentials end to end on a real `strata serve`: an operator issues an API key; a service
 * exchanges it for an access token and a refresh token, or hands it to a Qdrant client as its
 * api-key; rotation, revocation, expiry, narrowing and guessing, each as an attacker would try it.
 * The clock is the test's, so expiry and rate limits need no sleeping.
 */

let server: RunningServer;
let certs: DevCertificates;
let port: number;
let clock = Date.now();
const logs: string[] = [];
let cleanup: () => Promise<void>;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const operator = () => ({ ca: certs.caCert, client: { cert: certs.operatorCert, key: certs.operatorKey } });
const anyone = () => ({ ca: certs.caCert });
const asOperator = (method: string, path: string, body?: unknown) => call(port, method, path, { ...operator(), ...(body === undefined ? {} : { body }) });
const exchange = (body: unknown) => call(port, 'POST', '/v1/auth/token', { ...anyone(), body });
const transact = (tenant: string, token: string, ops: unknown[] = [{ op: 'get', key: b64('k') }]) =>
  call(port, 'POST', `/v1/tenants/${tenant}/transact`, { ...anyone(), token, body: { ops } });
const codeOf = (r: Reply) => (r.body as { error?: { code?: string } }).error?.code;

async function newKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const r = await asOperator('POST', '/v1/admin/apikeys', { name: 'test', tenants: ['acme'], ...body });
  expect(r.status).toBe(201);
  return r.body as { id: string; key: string };
}

beforeAll(async () => {
  const { dir, remove } = await tempDir('strata-credentials');
  // The run's certificates: Qdrant's client trusts their CA through NODE_EXTRA_CA_CERTS (test/global-setup.ts).
  certs = devCertificatePaths(process.env['STRATA_TEST_CERTS_DIR'] as string);
  cleanup = remove;
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config = parseServeArgs(
    [
      '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'),
      '--tls-certificate-file', certs.serverCert, '--tls-key-file', certs.serverKey, '--tls-ca-file', certs.caCert,
      '--knob_auth_failures_per_minute=5',
    ],
    {},
  );
  server = await startServe(config, { logger: pino({ level: 'debug', redact: { paths: ['req.headers.authorization', 'req.headers["api-key"]'], censor: '[redacted]' } }, sink), now: () => clock });
  port = Number(new URL(server.url).port);
  for (const name of ['acme', 'globex']) expect((await asOperator('POST', '/v1/admin/tenants', { name })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await cleanup?.();
});

describe('API keys', () => {
  // Refusals in one test count against this address (5 a minute): each test starts with full buckets.
  beforeEach(() => {
    clock += 60_000;
  });

  it('are shown once, stored as hashes, listed without secrets, and refused to untrusted callers', async () => {
    const { id, key } = await newKey({ name: 'ci-ingest', access: [{ collection: 'docs', access: 'rw' }], ttl_seconds: 90 * 86400 });
    const token = ((await exchange({ grant_type: 'api_key', api_key: key })).body as { access_token: string }).access_token;
    expect(key).toMatch(/^strata_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(`strata_${id}_`)).toBe(true);
    const list = await asOperator('GET', '/v1/admin/apikeys');
    const listed = (list.body as { apikeys: Array<Record<string, unknown>> }).apikeys.find(k => k['id'] === id);
    expect(listed).toMatchObject({ name: 'ci-ingest', tenants: ['acme'], access: [{ collection: 'docs', access: 'rw' }] });
    expect(JSON.stringify(list.body)).not.toContain(key.slice(-43));
    expect(JSON.stringify(list.body)).not.toMatch(/hash/);
    // The raw system keys hold no secret either: only its SHA-256.
    const raw = await call(port, 'POST', '/v1/transact', { ...operator(), body: { ops: [{ op: 'getRange', begin: b64('\xfe'), end: b64('\xff') }] } });
    expect(JSON.stringify(raw.body)).not.toContain(Buffer.from(key.slice(-43)).toString('base64'));
    // Token holders (and anyone without a certificate) cannot manage keys.
    const denied = await call(port, 'POST', '/v1/admin/apikeys', { ...anyone(), token, body: { name: 'x', tenants: ['acme'] } });
    expect([denied.status, codeOf(denied)]).toEqual([403, 'ERR_AUTH_TRUSTED_ONLY']);
    // Bad input changes nothing.
    expect(codeOf(await asOperator('POST', '/v1/admin/apikeys', { name: 'x', tenants: ['nope'] }))).toBe('ERR_TENANT_NOT_FOUND');
    expect(codeOf(await asOperator('POST', '/v1/admin/apikeys', { name: 'x', tenants: ['acme'], access: 'rwx' }))).toBe('ERR_REQUEST_INVALID');
    expect((await asOperator('GET', '/v1/admin/apikeys')).body).toEqual(list.body);
  });

  it('refuses bad input to the key routes with a status and a code, changing nothing', async () => {
    const { id, key } = await newKey({});
    const before = (await asOperator('GET', '/v1/admin/apikeys')).body;
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/admin/apikeys', { name: '', tenants: ['acme'] }, 400, 'ERR_REQUEST_INVALID'],
      ['POST', '/v1/admin/apikeys', { name: 'x', tenants: [] }, 400, 'ERR_REQUEST_INVALID'],
      ['POST', '/v1/admin/apikeys', { name: 'x', tenants: ['acme'], ttl_seconds: 0 }, 400, 'ERR_REQUEST_INVALID'],
      ['POST', '/v1/admin/apikeys', { name: 'x', tenants: ['acme'], owner: 'me' }, 400, 'ERR_REQUEST_INVALID'],
      ['POST', '/v1/admin/apikeys', { name: 'x', tenants: ['acme'], access: [{ collection: 'docs', access: 'admin' }] }, 400, 'ERR_REQUEST_INVALID'],
      ['POST', '/v1/admin/apikeys', { name: 'x', tenants: ['acme', 'nope'] }, 404, 'ERR_TENANT_NOT_FOUND'],
      ['POST', `/v1/admin/apikeys/${id}/rotate`, { grace_seconds: -1 }, 400, 'ERR_REQUEST_INVALID'],
      ['POST', '/v1/admin/apikeys/not-an-id/rotate', {}, 400, 'ERR_REQUEST_INVALID'],
      ['POST', '/v1/admin/apikeys/0000000000000000/rotate', {}, 404, 'ERR_APIKEY_NOT_FOUND'],
      ['DELETE', '/v1/admin/apikeys/not-an-id', undefined, 400, 'ERR_REQUEST_INVALID'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await asOperator(method, path, body);
      expect([method, path, r.status, codeOf(r)]).toEqual([method, path, status, code]);
    }
    const token = [
      [{ grant_type: 'password', username: 'x' }, 400, 'ERR_REQUEST_INVALID'],
      [{ grant_type: 'api_key' }, 400, 'ERR_REQUEST_INVALID'],
      [{ grant_type: 'api_key', api_key: key, tenants: [] }, 400, 'ERR_REQUEST_INVALID'],
      [{ grant_type: 'api_key', api_key: key, access: 'rwx' }, 400, 'ERR_REQUEST_INVALID'],
      [{ grant_type: 'api_key', api_key: 'not a key' }, 401, 'ERR_AUTH_APIKEY_INVALID'],
    ] as const;
    for (const [body, status, code] of token) {
      const r = await exchange(body);
      expect([r.status, codeOf(r)]).toEqual([status, code]);
    }
    expect((await asOperator('GET', '/v1/admin/apikeys')).body).toEqual(before);
    expect((await transact('acme', key)).status).toBe(200);
  });

  it('exchange for an access token within the key’s scope, served with its issuing key', async () => {
    const { id, key } = await newKey({ tenants: ['acme'] });
    const r = await exchange({ grant_type: 'api_key', api_key: key });
    expect(r.status).toBe(200);
    const answer = r.body as { access_token: string; token_type: string; expires_in: number; refresh_token: string };
    expect(answer).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(answer.refresh_token).toMatch(/^strata_rt_/);
    const claims = decodeJwt(answer.access_token);
    expect(claims).toMatchObject({ tenants: [b64('acme')], sub: `apikey:${id}`, akid: id, iss: 'strata' });
    const { kid, alg } = decodeProtectedHeader(answer.access_token);
    expect(alg).toBe('ES256');
    const jwks = (await call(port, 'GET', '/.well-known/jwks.json', anyone())).body as { keys: Array<{ kid: string; d?: string }> };
    expect(jwks.keys.map(k => k.kid)).toContain(kid);
    expect(jwks.keys.every(k => k.d === undefined)).toBe(true);
    expect((await transact('acme', answer.access_token)).status).toBe(200);
    expect(codeOf(await transact('globex', answer.access_token))).toBe('ERR_AUTH_TENANT_FORBIDDEN');
    // The key's last use is recorded.
    const listed = ((await asOperator('GET', '/v1/admin/apikeys')).body as { apikeys: Array<{ id: string; last_used_at: string | null }> }).apikeys;
    expect(listed.find(k => k.id === id)?.last_used_at).not.toBeNull();
  });

  it('never grant more than the key: other tenants, wider access, or past its expiry', async () => {
    const { key } = await newKey({ tenants: ['acme'], access: [{ collection: 'docs', access: 'r' }], ttl_seconds: 120 });
    const over = [
      { tenants: ['globex'] },
      { tenants: ['acme', 'globex'] },
      { access: 'm' },
      { access: [{ collection: 'docs', access: 'rw' }] },
      { access: [{ collection: 'other', access: 'r' }] },
      { access: [{ collection: 'd*', access: 'r' }] },
    ];
    for (const narrowing of over) {
      const r = await exchange({ grant_type: 'api_key', api_key: key, ...narrowing });
      expect([r.status, codeOf(r)]).toEqual([403, 'ERR_AUTH_GRANT_EXCEEDS_KEY']);
    }
    const r = await exchange({ grant_type: 'api_key', api_key: key });
    // Never past the key's own expiry (120 s), whatever access_token_ttl_seconds says.
    expect((r.body as { expires_in: number }).expires_in).toBeLessThanOrEqual(120);
    // Narrowing is allowed: a full key asked for read-only gives a read-only token.
    const full = await newKey({ tenants: ['acme', 'globex'] });
    const narrowed = await exchange({ grant_type: 'api_key', api_key: full.key, tenants: ['acme'], access: 'r' });
    const token = (narrowed.body as { access_token: string }).access_token;
    expect(codeOf(await transact('acme', token, [{ op: 'set', key: b64('k'), value: b64('v') }]))).toBe('ERR_ACCESS_READ_ONLY');
    expect(codeOf(await transact('globex', token))).toBe('ERR_AUTH_TENANT_FORBIDDEN');
  });

  it('refresh tokens are single-use: a reuse revokes the whole family', async () => {
    const { key } = await newKey({});
    const first = (await exchange({ grant_type: 'api_key', api_key: key })).body as { refresh_token: string };
    const second = await exchange({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(second.status).toBe(200);
    const next = second.body as { access_token: string; refresh_token: string };
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect((await transact('acme', next.access_token)).status).toBe(200);
    // The first token is presented again (stolen and replayed): refused, and the family dies.
    const replay = await exchange({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect([replay.status, codeOf(replay)]).toEqual([401, 'ERR_AUTH_REFRESH_REUSED']);
    const after = await exchange({ grant_type: 'refresh_token', refresh_token: next.refresh_token });
    expect([after.status, codeOf(after)]).toEqual([401, 'ERR_AUTH_REFRESH_INVALID']);
    expect(codeOf(await exchange({ grant_type: 'refresh_token', refresh_token: 'strata_rt_' + 'A'.repeat(43) }))).toBe('ERR_AUTH_REFRESH_INVALID');
    expect(codeOf(await exchange({ grant_type: 'password', username: 'x' }))).toBe('ERR_REQUEST_INVALID');
  });

  it('work directly as a Qdrant client’s apiKey, and a revocation is seen on the next request', async () => {
    const { id, key } = await newKey({ tenants: ['acme'] });
    const client = new QdrantClient({ url: `https://localhost:${port}`, apiKey: key, checkCompatibility: false });
    await client.createCollection('docs', { vectors: { size: 2, distance: 'Dot' } });
    await client.upsert('docs', { wait: true, points: [{ id: 1, vector: [1, 0], payload: { a: 1 } }] });
    expect((await client.query('docs', { query: [1, 0], limit: 1 })).points.map(p => p.id)).toEqual([1]);
    const exchanged = ((await exchange({ grant_type: 'api_key', api_key: key })).body as { access_token: string }).access_token;
    const refresh = ((await exchange({ grant_type: 'api_key', api_key: key })).body as { refresh_token: string }).refresh_token;
    expect((await transact('acme', exchanged)).status).toBe(200);
    expect((await asOperator('DELETE', `/v1/admin/apikeys/${id}`)).status).toBe(200);
    // The key was cached by the server: the next request still sees the revocation.
    await expect(client.getCollection('docs')).rejects.toMatchObject({ status: 401 });
    // Tokens exchanged from it stop as well, and so do its refresh tokens.
    expect(codeOf(await transact('acme', exchanged))).toBe('ERR_AUTH_TOKEN_REVOKED');
    expect(codeOf(await exchange({ grant_type: 'refresh_token', refresh_token: refresh }))).toBe('ERR_AUTH_REFRESH_INVALID');
    expect(codeOf(await exchange({ grant_type: 'api_key', api_key: key }))).toBe('ERR_AUTH_APIKEY_INVALID');
    expect((await asOperator('DELETE', `/v1/admin/apikeys/${id}`)).status).toBe(404);
  });

  it('rotate: the old secret works through the grace period only, even when cached', async () => {
    const { id, key: oldKey } = await newKey({});
    expect((await transact('acme', oldKey)).status).toBe(200);
    const graced = (await asOperator('POST', `/v1/admin/apikeys/${id}/rotate`, { grace_seconds: 60 })).body as { key: string; previous_secret_until: string };
    expect(graced.key).not.toBe(oldKey);
    expect((await transact('acme', oldKey)).status).toBe(200);
    expect((await transact('acme', graced.key)).status).toBe(200);
    clock += 61_000;
    expect(codeOf(await transact('acme', oldKey))).toBe('ERR_AUTH_APIKEY_INVALID');
    expect((await transact('acme', graced.key)).status).toBe(200);
    const at = (await asOperator('POST', `/v1/admin/apikeys/${id}/rotate`, { grace_seconds: 0 })).body as { key: string };
    expect(codeOf(await transact('acme', graced.key))).toBe('ERR_AUTH_APIKEY_INVALID');
    expect((await transact('acme', at.key)).status).toBe(200);
  });

  it('expire: neither exchanged nor accepted directly past their ttl', async () => {
    const { key } = await newKey({ ttl_seconds: 30 });
    expect((await transact('acme', key)).status).toBe(200);
    const token = ((await exchange({ grant_type: 'api_key', api_key: key })).body as { access_token: string }).access_token;
    clock += 31_000;
    expect(codeOf(await transact('acme', key))).toBe('ERR_AUTH_APIKEY_INVALID');
    expect(codeOf(await exchange({ grant_type: 'api_key', api_key: key }))).toBe('ERR_AUTH_APIKEY_INVALID');
    expect(codeOf(await transact('acme', token))).toBe('ERR_AUTH_TOKEN_EXPIRED');
  });

  it('cannot be guessed: failures are limited per key id (and address), even for the right secret', async () => {
    const { id, key } = await newKey({});
    const wrong = `strata_${id}_${'x'.repeat(43)}`;
    for (let i = 0; i < 5; i++) expect(codeOf(await exchange({ grant_type: 'api_key', api_key: wrong }))).toBe('ERR_AUTH_APIKEY_INVALID');
    const limited = await exchange({ grant_type: 'api_key', api_key: key });
    expect([limited.status, codeOf(limited)]).toEqual([429, 'ERR_RATE_LIMITED']);
    expect(codeOf(await transact('acme', key))).toBe('ERR_RATE_LIMITED');
    // The bucket refills with time; then the right key works again.
    clock += 60_000;
    expect((await exchange({ grant_type: 'api_key', api_key: key })).status).toBe(200);
    // Malformed keys count against the address too.
    for (let i = 0; i < 5; i++) expect(codeOf(await transact('acme', 'strata_nope'))).toBe('ERR_AUTH_APIKEY_INVALID');
    expect(codeOf(await transact('acme', key))).toBe('ERR_RATE_LIMITED');
    clock += 60_000;
  });

  it('rotating the issuing key keeps old tokens valid and signs with the new key once published', async () => {
    const { key } = await newKey({});
    const before = ((await exchange({ grant_type: 'api_key', api_key: key })).body as { access_token: string }).access_token;
    const oldKid = decodeProtectedHeader(before).kid;
    const rotated = await asOperator('POST', '/v1/admin/keys/rotate');
    const { kid: newKid } = rotated.body as { kid: string };
    expect(newKid).not.toBe(oldKid);
    const kids = ((await call(port, 'GET', '/.well-known/jwks.json', anyone())).body as { keys: Array<{ kid: string }> }).keys.map(k => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect((await transact('acme', before)).status).toBe(200);
    // Not signed with until every server has had time to load it.
    const soon = ((await exchange({ grant_type: 'api_key', api_key: key })).body as { access_token: string }).access_token;
    expect(decodeProtectedHeader(soon).kid).toBe(oldKid);
    clock += PUBLISH_DELAY_MS + 1000;
    const later = ((await exchange({ grant_type: 'api_key', api_key: key })).body as { access_token: string }).access_token;
    expect(decodeProtectedHeader(later).kid).toBe(newKid);
    expect((await transact('acme', later)).status).toBe(200);
    expect((await transact('acme', before)).status).toBe(200);
  });

  it('never appear in the logs', () => {
    const text = logs.join('');
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/strata_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/);
    expect(text).not.toMatch(/strata_rt_[A-Za-z0-9_-]{43}/);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
  });
});
