import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefixEnd } from '../../src/kv/keys.js';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { call, makeCertificates, startServer, type TestServer } from './harness.js';

const b64 = (s: string | Uint8Array) => Buffer.from(s as string, typeof s === 'string' ? 'latin1' : undefined).toString('base64');
const text = (s: string) => Buffer.from(s, 'base64').toString('latin1');

/**
 * The native transact routes through a real TLS listener. Untrusted callers come in with tokenless
 * access on (token-holding callers are tested with the token verifier): the tenant keyspace must
 * hold whatever keys they send.
 */
describe('native transact API', () => {
  let certs: DevCertificates;
  let removeCerts: () => Promise<void>;
  let server: TestServer;
  const operator = () => ({ cert: certs.operatorCert, key: certs.operatorKey });
  const tenantCall = (tenant: string, body: unknown) => call(server.port, 'POST', `/v1/tenants/${encodeURIComponent(tenant)}/transact`, { ca: certs.caCert, body });
  const raw = (body: unknown) => call(server.port, 'POST', '/v1/transact', { ca: certs.caCert, client: operator(), body });
  /** Everything in the store except tenant `a`'s keyspace, as the operator sees it. */
  let outsideA: () => Promise<string>;

  beforeAll(async () => {
    const made = await makeCertificates();
    certs = made.good;
    removeCerts = made.remove;
    server = await startServer(certs, { knobs: { allowTokenlessTenantAccess: true } });
    for (const name of ['a', 'b', 'société/2']) {
      expect((await call(server.port, 'POST', '/v1/admin/tenants', { ca: certs.caCert, client: operator(), body: { name } })).status).toBe(201);
    }
    expect((await tenantCall('b', { ops: [{ op: 'set', key: b64('secret'), value: b64('b-only') }] })).status).toBe(200);
    expect((await raw({ ops: [{ op: 'set', key: b64('raw-key'), value: b64('raw') }] })).status).toBe(200);
    const aPrefix = Buffer.from('fd0000000000000001', 'hex');
    outsideA = async () => {
      const r = await raw({
        ops: [
          { op: 'getRange', begin: '', end: b64(aPrefix) },
          { op: 'getRange', begin: b64(prefixEnd(aPrefix)), end: b64('\xfe') },
        ],
      });
      return JSON.stringify(r.body);
    };
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await removeCerts();
  });

  it('runs ops in order as one transaction and answers one result per op', async () => {
    const reply = await tenantCall('a', {
      ops: [
        { op: 'set', key: b64('k1'), value: b64('v1') },
        { op: 'add', key: b64('n'), value: b64(Uint8Array.of(5, 0, 0, 0)) },
        { op: 'get', key: b64('k1') },
        { op: 'get', key: b64('missing') },
        { op: 'getRange', begin: b64('k'), end: b64('l'), limit: 10 },
        { op: 'clear', key: b64('k1') },
        { op: 'get', key: b64('k1') },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      committed: true,
      results: [{}, {}, { value: b64('v1') }, { value: null }, { kvs: [{ key: b64('k1'), value: b64('v1') }], more: false }, {}, { value: null }],
    });
  });

  it('checks compares before any op and writes nothing when one fails (409 ERR_KV_COMPARE_FAILED)', async () => {
    await tenantCall('a', { ops: [{ op: 'set', key: b64('cas'), value: b64('1') }] });
    const failed = await tenantCall('a', { compare: [{ key: b64('cas'), value: b64('0') }], ops: [{ op: 'set', key: b64('cas'), value: b64('2') }] });
    expect(failed).toMatchObject({ status: 409, body: { error: { code: 'ERR_KV_COMPARE_FAILED' } } });
    const absent = await tenantCall('a', { compare: [{ key: b64('cas'), value: null }], ops: [{ op: 'set', key: b64('cas'), value: b64('3') }] });
    expect(absent.status).toBe(409);
    const ok = await tenantCall('a', { compare: [{ key: b64('cas'), value: b64('1') }], ops: [{ op: 'set', key: b64('cas'), value: b64('2') }, { op: 'get', key: b64('cas') }] });
    expect(ok.body).toMatchObject({ results: [{}, { value: b64('2') }] });
  });

  it('reaches tenants whose names need percent-encoding', async () => {
    expect((await tenantCall('société/2', { ops: [{ op: 'set', key: b64('k'), value: b64('v') }] })).status).toBe(200);
  });

  // Untrusted callers may not write a tenant's keys from \xfe on (its collections and usage
  // counters): 403 for them; the operator, through the same tenant route, is confined as anyone.
  it.each([
    ['a getRange over the whole tenant keyspace', { ops: [{ op: 'getRange', begin: '', end: b64('\xff') }] }, 200, 200],
    ['a clearRange over the whole tenant keyspace', { ops: [{ op: 'clearRange', begin: '', end: b64('\xff') }] }, 403, 200],
    ['a clearRange up to the reserved keys', { ops: [{ op: 'clearRange', begin: '', end: b64('\xfe') }] }, 200, 200],
    ['keys naming another tenant\'s prefix', { ops: [{ op: 'get', key: b64(Buffer.from('fd0000000000000002', 'hex')) }, { op: 'set', key: b64(Buffer.from('fd00000000000000027365637265', 'hex')), value: b64('x') }] }, 200, 200],
    ['a key at \\xff', { ops: [{ op: 'set', key: b64('\xff'), value: b64('x') }] }, 400, 400],
    ['a range past \\xff', { ops: [{ op: 'clearRange', begin: '', end: b64('\xff\xff') }] }, 400, 400],
    ['a system-subspace key', { ops: [{ op: 'set', key: b64('\xfe\x02tenant\x00'), value: b64('x') }] }, 403, 200],
    ['a usage counter of the record layer', { ops: [{ op: 'get', key: b64('\xfeR') }, { op: 'add', key: b64(Buffer.from('fe52150514', 'hex')), value: b64(Buffer.alloc(8, 0xff)) }] }, 403, 200],
    ['an inverted clearRange', { ops: [{ op: 'clearRange', begin: b64('z'), end: b64('a') }] }, 400, 400],
  ])('confines %s to the tenant', async (_what, body, status, operatorStatus) => {
    const before = await outsideA();
    const mine = await tenantCall('a', { ops: [{ op: 'getRange', begin: '', end: b64('\xff') }] });
    const reply = await tenantCall('a', body);
    expect(reply.status).toBe(status);
    if (status === 403) {
      expect(reply.body).toMatchObject({ error: { code: 'ERR_ACCESS_RESERVED_KEYS' } });
      expect(await tenantCall('a', { ops: [{ op: 'getRange', begin: '', end: b64('\xff') }] })).toEqual(mine);
    }
    expect(await outsideA()).toBe(before);
    const asOperator = await call(server.port, 'POST', '/v1/tenants/a/transact', { ca: certs.caCert, client: operator(), body });
    expect(asOperator.status).toBe(operatorStatus);
    expect(await outsideA()).toBe(before);
    if (status === 200 && (body.ops[0] as { op: string }).op === 'getRange') {
      const kvs = (reply.body as { results: Array<{ kvs: Array<{ key: string; value: string }> }> }).results[0]!.kvs;
      expect(kvs.map(kv => text(kv.value))).not.toContain('b-only');
    }
  });

  it.each([
    ['no body', undefined],
    ['ops missing', {}],
    ['an unknown op', { ops: [{ op: 'drop', key: 'AA==' }] }],
    ['an extra property', { ops: [{ op: 'get', key: 'AA==', extra: 1 }] }],
    ['a non-string key', { ops: [{ op: 'get', key: 5 }] }],
    ['bad base64', { ops: [{ op: 'set', key: 'not base64!', value: 'AA==' }] }],
    ['non-canonical base64', { ops: [{ op: 'set', key: 'AB==', value: 'AA==' }] }],
    ['too many ops', { ops: Array.from({ length: 1001 }, () => ({ op: 'get', key: 'AA==' })) }],
    ['a getRange limit of 0', { ops: [{ op: 'getRange', begin: '', end: '/w==', limit: 0 }] }],
  ])('refuses %s with 400 ERR_REQUEST_INVALID, writing nothing', async (_what, body) => {
    const before = await tenantCall('a', { ops: [{ op: 'getRange', begin: '', end: b64('\xff') }] });
    const reply = await tenantCall('a', body);
    expect(reply).toMatchObject({ status: 400, body: { error: { code: 'ERR_REQUEST_INVALID' } } });
    expect(await tenantCall('a', { ops: [{ op: 'getRange', begin: '', end: b64('\xff') }] })).toEqual(before);
  });

  it('refuses a value over 100,000 bytes with 413 ERR_KV_VALUE_TOO_LARGE, writing nothing', async () => {
    const reply = await tenantCall('a', { ops: [{ op: 'set', key: b64('big'), value: Buffer.alloc(100_001).toString('base64') }] });
    expect(reply).toMatchObject({ status: 413, body: { error: { code: 'ERR_KV_VALUE_TOO_LARGE' } } });
    expect(await tenantCall('a', { ops: [{ op: 'get', key: b64('big') }] })).toMatchObject({ body: { results: [{ value: null }] } });
  });

  it('refuses reads that would return more than 32 MiB with 413 ERR_REQUEST_RESULT_TOO_LARGE, and keeps serving', async () => {
    const big = Buffer.alloc(99_000, 7).toString('base64');
    for (let batch = 0; batch < 4; batch++) {
      const ops = Array.from({ length: 90 }, (_, i) => ({ op: 'set', key: b64(`big/${batch}/${String(i).padStart(3, '0')}`), value: big }));
      expect((await tenantCall('société/2', { ops })).status).toBe(200);
    }
    const greedy = await tenantCall('société/2', { ops: Array.from({ length: 5 }, () => ({ op: 'getRange', begin: b64('big/'), end: b64('big0') })) });
    expect(greedy).toMatchObject({ status: 413, body: { error: { code: 'ERR_REQUEST_RESULT_TOO_LARGE' } } });
    expect((await call(server.port, 'GET', '/healthz', { ca: certs.caCert })).status).toBe(200);
    const modest = await tenantCall('société/2', { ops: [{ op: 'getRange', begin: b64('big/'), end: b64('big0'), limit: 3 }] });
    expect(modest).toMatchObject({ status: 200, body: { results: [{ more: true }] } });
  }, 60_000);

  it('reaches a tenant with a 200-character name', async () => {
    const name = 'n'.repeat(200);
    expect((await call(server.port, 'POST', '/v1/admin/tenants', { ca: certs.caCert, client: operator(), body: { name } })).status).toBe(201);
    expect((await tenantCall(name, { ops: [{ op: 'get', key: b64('k') }] })).status).toBe(200);
  });

  it('answers 404 ERR_TENANT_NOT_FOUND for a tenant that does not exist, and ERR_ROUTE_NOT_FOUND for no route', async () => {
    expect(await tenantCall('ghost', { ops: [] })).toMatchObject({ status: 404, body: { error: { code: 'ERR_TENANT_NOT_FOUND' } } });
    expect(await call(server.port, 'GET', '/nowhere', { ca: certs.caCert })).toMatchObject({ status: 404, body: { error: { code: 'ERR_ROUTE_NOT_FOUND' } } });
  });

  it('lets the operator reach raw keys and the system subspace through /v1/transact', async () => {
    const reply = await raw({ ops: [{ op: 'get', key: b64('raw-key') }, { op: 'getRange', begin: b64('\xfe'), end: b64('\xff'), limit: 1 }] });
    expect(reply.body).toMatchObject({ results: [{ value: b64('raw') }, { more: true }] });
  });
});
