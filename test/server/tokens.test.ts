import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { b64, claims, craft, makeKey, memoryLogger, sign, writeJwks, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { call, makeCertificates, startServer, type TestServer } from './harness.js';

const kv = (s: string) => Buffer.from(s).toString('base64');

/**
 * Tokens through a real TLS listener, as an attacker would send them: every forged, tampered,
 * expired, misdirected or revoked token is refused with its code, and nothing is written.
 */
describe('tokens over TLS', () => {
  let certs: DevCertificates;
  let removeCerts: () => Promise<void>;
  let server: TestServer;
  let es: TestKey;
  let rs: TestKey;
  let rotated: TestKey;
  let keySet: KeySet;
  let jwksFile: string;
  let removeDir: () => Promise<void>;
  const now = () => Math.floor(Date.now() / 1000);
  const operator = () => ({ cert: certs.operatorCert, key: certs.operatorKey });
  const write = (tenant: string, token: string | undefined, key = 'written') =>
    call(server.port, 'POST', `/v1/tenants/${tenant}/transact`, {
      ca: certs.caCert,
      ...(token === undefined ? {} : { token }),
      body: { ops: [{ op: 'set', key: kv(key), value: kv('x') }] },
    });
  const read = async (tenant: string, key = 'written') => {
    const r = await call(server.port, 'POST', `/v1/tenants/${tenant}/transact`, { ca: certs.caCert, client: operator(), body: { ops: [{ op: 'get', key: kv(key) }] } });
    return (r.body as { results: Array<{ value: string | null }> }).results[0]!.value;
  };

  beforeAll(async () => {
    const made = await makeCertificates();
    certs = made.good;
    removeCerts = made.remove;
    const t = await tempDir('strata-tokens');
    removeDir = t.remove;
    [es, rs, rotated] = await Promise.all([makeKey('ES256', 'es-1'), makeKey('RS256', 'rs-1'), makeKey('ES256', 'rotated')]);
    jwksFile = join(t.dir, 'jwks.json');
    await writeJwks(jwksFile, [es.publicJwk, rs.publicJwk, rotated.publicJwk]);
    keySet = await KeySet.load(jwksFile, { logger: memoryLogger() });
    server = await startServer(certs, { verifier: new TokenVerifier(keySet, { maxTokenBytes: 8192 }) });
    for (const name of ['acme', 'globex']) {
      expect((await call(server.port, 'POST', '/v1/admin/tenants', { ca: certs.caCert, client: operator(), body: { name } })).status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await removeCerts();
    await removeDir();
  });

  it('accepts a valid ES256 or RS256 token for its tenant, by Authorization or api-key', async () => {
    for (const key of [es, rs]) {
      const token = await sign(key, claims(now(), ['acme']));
      expect(await write('acme', token, `ok-${key.kid}`)).toMatchObject({ status: 200, body: { committed: true } });
      expect(await read('acme', `ok-${key.kid}`)).toBe(kv('x'));
    }
  });

  describe('refuses, writing nothing', () => {
    const cases: Array<[string, () => Promise<string | undefined>, number, string]> = [
      ['no token', async () => undefined, 401, 'ERR_AUTH_TOKEN_MISSING'],
      ['alg none', async () => craft({ alg: 'none', typ: 'JWT', kid: 'es-1' }, claims(now())), 401, 'ERR_AUTH_TOKEN_INVALID'],
      [
        'HS256 signed with the public key as the secret',
        async () => {
          const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'es-1' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims(now()))).toString('base64url')}`;
          return `${input}.${createHmac('sha256', JSON.stringify(es.publicJwk)).update(input).digest('base64url')}`;
        },
        401,
        'ERR_AUTH_TOKEN_INVALID',
      ],
      ['RS256 header on an EC key', async () => sign(es, claims(now()), { alg: 'RS256' }).catch(() => craft({ alg: 'RS256', typ: 'JWT', kid: 'es-1' }, claims(now()), 'AAAA')), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['an RS256 token naming the EC kid', async () => sign(rs, claims(now()), { kid: 'es-1' }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['missing kid', async () => sign(es, claims(now()), { kid: undefined }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['unknown kid', async () => sign(es, claims(now()), { kid: 'nobody' }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['empty kid', async () => sign(es, claims(now()), { kid: '' }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      [
        'a tampered payload',
        async () => {
          const [h, , s] = (await sign(es, claims(now(), ['globex']))).split('.');
          return `${h}.${Buffer.from(JSON.stringify(claims(now(), ['acme']))).toString('base64url')}.${s}`;
        },
        401,
        'ERR_AUTH_TOKEN_INVALID',
      ],
      ['a stripped signature', async () => (await sign(es, claims(now()))).split('.').slice(0, 2).join('.') + '.', 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['a truncated signature', async () => (await sign(es, claims(now()))).slice(0, -10), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['exp in the past', async () => sign(es, { ...claims(now()), exp: now() - 10 }), 401, 'ERR_AUTH_TOKEN_EXPIRED'],
      ['nbf in the future', async () => sign(es, { ...claims(now()), nbf: now() + 600 }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['no exp', async () => sign(es, { ...claims(now()), exp: undefined }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['no nbf', async () => sign(es, { ...claims(now()), nbf: undefined }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['no iat', async () => sign(es, { ...claims(now()), iat: undefined }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['no tenants', async () => sign(es, { ...claims(now()), tenants: undefined }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['empty tenants', async () => sign(es, { ...claims(now()), tenants: [] }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['tenants not an array', async () => sign(es, { ...claims(now()), tenants: b64('acme') }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['tenants not base64', async () => sign(es, { ...claims(now()), tenants: ['acme!'] }), 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['a token for another tenant', async () => sign(es, claims(now(), ['globex'])), 403, 'ERR_AUTH_TENANT_FORBIDDEN'],
      ['an oversized token', async () => sign(es, { ...claims(now()), pad: 'x'.repeat(9000) }), 401, 'ERR_AUTH_TOKEN_TOO_LARGE'],
      ['garbage', async () => 'not.a.token', 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['non-JSON segments', async () => `${Buffer.from('{nope').toString('base64url')}.${Buffer.from('[[').toString('base64url')}.AAAA`, 401, 'ERR_AUTH_TOKEN_INVALID'],
      ['two segments', async () => (await sign(es, claims(now()))).split('.').slice(0, 2).join('.'), 401, 'ERR_AUTH_TOKEN_INVALID'],
    ];
    it.each(cases)('%s', async (_what, make, status, code) => {
      const reply = await write('acme', await make());
      expect(reply).toMatchObject({ status, body: { error: { code } } });
      expect(await read('acme')).toBeNull();
    });
  });

  it('refuses a token for tenant A on tenant B, and A’s token cannot reach B’s keys through crafted keys', async () => {
    const token = await sign(es, claims(now(), ['acme']));
    await call(server.port, 'POST', '/v1/tenants/globex/transact', { ca: certs.caCert, client: operator(), body: { ops: [{ op: 'set', key: kv('secret'), value: kv('globex') }] } });
    expect(await write('globex', token)).toMatchObject({ status: 403, body: { error: { code: 'ERR_AUTH_TENANT_FORBIDDEN' } } });
    const escape = await call(server.port, 'POST', '/v1/tenants/acme/transact', {
      ca: certs.caCert,
      token,
      body: { ops: [{ op: 'get', key: Buffer.from('fd0000000000000002736563726574', 'hex').toString('base64') }, { op: 'getRange', begin: '', end: '/w==' }] },
    });
    expect(escape.status).toBe(200);
    expect(JSON.stringify(escape.body)).not.toContain(kv('globex'));
  });

  it('refuses a revoked jti on its next use, cached or not', async () => {
    const token = await sign(es, { ...claims(now()), jti: 'to-revoke' });
    expect((await write('acme', token, 'before-revoke')).status).toBe(200);
    const revoke = await call(server.port, 'POST', '/v1/admin/tokens/revoke', { ca: certs.caCert, client: operator(), body: { jti: 'to-revoke', exp: now() + 3600 } });
    expect(revoke.status).toBe(200);
    expect(await write('acme', token, 'after-revoke')).toMatchObject({ status: 401, body: { error: { code: 'ERR_AUTH_TOKEN_REVOKED' } } });
    expect(await read('acme', 'after-revoke')).toBeNull();
  });

  it('stops honouring a cached token once its key is removed from the file', async () => {
    const token = await sign(rotated, claims(now()));
    expect((await write('acme', token, 'rotated-1')).status).toBe(200);
    await writeJwks(jwksFile, [es.publicJwk, rs.publicJwk]);
    await keySet.reload();
    expect(await write('acme', token, 'rotated-2')).toMatchObject({ status: 401, body: { error: { code: 'ERR_AUTH_TOKEN_INVALID' } } });
    expect(await read('acme', 'rotated-2')).toBeNull();
  });

  it('holds a value_exists token only while its key holds its value', async () => {
    await call(server.port, 'POST', '/v1/tenants/acme/transact', { ca: certs.caCert, client: operator(), body: { ops: [{ op: 'set', key: kv('user/7/status'), value: kv('active') }] } });
    const token = await sign(es, { ...claims(now()), value_exists: { key: kv('user/7/status'), value: kv('active') } });
    expect((await write('acme', token, 've-1')).status).toBe(200);
    await call(server.port, 'POST', '/v1/tenants/acme/transact', { ca: certs.caCert, client: operator(), body: { ops: [{ op: 'set', key: kv('user/7/status'), value: kv('banned') }] } });
    expect(await write('acme', token, 've-2')).toMatchObject({ status: 401, body: { error: { code: 'ERR_AUTH_TOKEN_REVOKED' } } });
    expect(await read('acme', 've-2')).toBeNull();
  });

  it('enforces access: a read-only token reads but cannot write; a collection-scoped token cannot use keys', async () => {
    const readOnly = await sign(es, { ...claims(now(), ['acme']), access: 'r' });
    const reading = await call(server.port, 'POST', '/v1/tenants/acme/transact', { ca: certs.caCert, token: readOnly, body: { ops: [{ op: 'get', key: kv('k') }] } });
    expect(reading.status).toBe(200);
    expect(await write('acme', readOnly, 'ro')).toMatchObject({ status: 403, body: { error: { code: 'ERR_ACCESS_READ_ONLY' } } });
    const sneaky = await call(server.port, 'POST', '/v1/tenants/acme/transact', {
      ca: certs.caCert,
      token: readOnly,
      body: { ops: [{ op: 'get', key: kv('k') }, { op: 'clearRange', begin: '', end: '/w==' }] },
    });
    expect(sneaky).toMatchObject({ status: 403, body: { error: { code: 'ERR_ACCESS_READ_ONLY' } } });
    expect(await read('acme', 'ok-es-1')).toBe(kv('x'));
    expect(await read('acme', 'ro')).toBeNull();
    const scoped = await sign(es, { ...claims(now(), ['acme']), access: [{ collection: 'docs', access: 'rw', payload: { user: 'u1' } }] });
    expect(await write('acme', scoped, 'scoped')).toMatchObject({ status: 403, body: { error: { code: 'ERR_ACCESS_COLLECTION_SCOPED' } } });
    expect(await read('acme', 'scoped')).toBeNull();
  });

  it('answers 401 before reading the body of a caller without a token', async () => {
    const reply = await call(server.port, 'POST', '/v1/tenants/acme/transact', { ca: certs.caCert, body: { not: 'a valid body' } });
    expect(reply).toMatchObject({ status: 401, body: { error: { code: 'ERR_AUTH_TOKEN_MISSING' } } });
  });

  it('keeps a revocation without exp for good, and refuses an absurd exp with 400', async () => {
    const token = await sign(es, { ...claims(now()), jti: 'no-exp' });
    expect((await call(server.port, 'POST', '/v1/admin/tokens/revoke', { ca: certs.caCert, client: operator(), body: { jti: 'no-exp' } })).body).toEqual({
      jti: 'no-exp',
      revoked: true,
      until: null,
    });
    expect(await write('acme', token, 'no-exp')).toMatchObject({ status: 401, body: { error: { code: 'ERR_AUTH_TOKEN_REVOKED' } } });
    const absurd = await call(server.port, 'POST', '/v1/admin/tokens/revoke', { ca: certs.caCert, client: operator(), body: { jti: 'x', exp: 1e20 } });
    expect(absurd).toMatchObject({ status: 400, body: { error: { code: 'ERR_REQUEST_INVALID' } } });
  });

  it('refuses untrusted token holders on every admin route', async () => {
    const token = await sign(es, claims(now(), ['acme']));
    for (const [method, path] of [['GET', '/v1/admin/tenants'], ['POST', '/v1/admin/tokens/revoke'], ['GET', '/v1/admin/status']] as const) {
      const reply = await call(server.port, method, path, { ca: certs.caCert, token, ...(method === 'POST' ? { body: { jti: 'x' } } : {}) });
      expect(reply).toMatchObject({ status: 403, body: { error: { code: 'ERR_AUTH_TRUSTED_ONLY' } } });
    }
  });
});
