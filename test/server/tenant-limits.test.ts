import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { NO_LIMITS, RequestLimits, type LimitDefaults } from '../../src/server/limits.js';
import { Metrics } from '../../src/server/metrics.js';
import { setTenantLimits } from '../../src/tenancy/limits.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { claims, makeKey, memoryLogger, sign, writeJwks, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTestApp } from './harness.js';

/**
 * Limits beyond Qdrant's: read and write rates per tenant and per token subject, and quotas on a
 * tenant's points and bytes, exact under concurrency. A noisy tenant or user is slowed; the others
 * are not.
 */

const DEFAULTS: LimitDefaults = { ...NO_LIMITS, tenantWriteRateLimit: 10, subjectReadRateLimit: 5 };

describe('tenant and subject limits', () => {
  let db: Database;
  let app: FastifyInstance;
  let metrics: Metrics;
  let key: TestKey;
  let remove: () => Promise<void>;
  let clock = 5_000_000;
  const tokens: Record<string, string> = {};

  const send = async (who: string, method: 'PUT' | 'POST', url: string, body: unknown, tenant?: string) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json', ...(tenant === undefined ? {} : { 'x-strata-tenant': tenant }) },
      payload: JSON.stringify(body),
    });
    const json = res.json();
    return { status: res.statusCode, code: (json.status?.code ?? json.error?.code) as string | undefined, retryAfter: res.headers['retry-after'], json };
  };
  const upsert = (who: string, tenant: string, from: number, n = 1) =>
    send(who, 'PUT', '/collections/docs/points', { points: Array.from({ length: n }, (_, i) => ({ id: from + i, vector: [1, 0], payload: { t: 'x'.repeat(8) } })) }, tenant);
  const count = async (tenant: string) => (await send(`${tenant}-admin`, 'POST', '/collections/docs/points/count', {}, tenant)).json.result.count as number;

  beforeAll(async () => {
    const t = await tempDir('strata-tenant-limits');
    remove = t.remove;
    db = await openDatabase({ dataDir: join(t.dir, 'data') });
    key = await makeKey('ES256', 'k1');
    await writeJwks(join(t.dir, 'jwks.json'), [key.publicJwk]);
    const now = Math.floor(Date.now() / 1000);
    for (const tenant of ['acme', 'globex', 'initech']) {
      await db.transact(tx => createTenant(tx, tenant));
      tokens[`${tenant}-admin`] = await sign(key, { ...claims(now, [tenant]), sub: `${tenant}-admin` });
    }
    tokens['alice'] = await sign(key, { ...claims(now, ['acme']), sub: 'alice' });
    tokens['bob'] = await sign(key, { ...claims(now, ['acme']), sub: 'bob' });
    metrics = new Metrics();
    app = buildTestApp(db, {
      verifier: new TokenVerifier(await KeySet.load(join(t.dir, 'jwks.json'), { logger: memoryLogger() })),
      knobs: { allowTokenlessTenantAccess: false },
      metrics,
      limits: new RequestLimits(DEFAULTS, { now: () => clock, onLimited: (scope, kind, tenant) => metrics.limited(scope, kind, tenant) }),
    });
    await app.ready();
    for (const tenant of ['acme', 'globex', 'initech']) {
      expect((await send(`${tenant}-admin`, 'PUT', '/collections/docs', { vectors: { size: 2, distance: 'Dot' } }, tenant)).status).toBe(200);
    }
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await remove();
  });

  it('a tenant writing at 10x its rate is slowed while another tenant’s writes all succeed', async () => {
    clock += 120_000;
    const acme: number[] = [];
    const globex: number[] = [];
    // Interleaved, as two noisy and quiet clients on one server would be.
    for (let i = 0; i < 100; i++) {
      acme.push((await upsert('acme-admin', 'acme', 1000 + i)).status);
      if (i % 10 === 0) globex.push((await upsert('globex-admin', 'globex', 1000 + i)).status);
    }
    expect(acme.filter(s => s === 200)).toHaveLength(10);
    expect(acme.filter(s => s === 429)).toHaveLength(90);
    expect(globex).toEqual(Array(10).fill(200));
    const refused = await upsert('acme-admin', 'acme', 5000);
    expect(refused).toMatchObject({ status: 429, code: 'ERR_RATE_LIMITED', retryAfter: '6' });
    expect(refused.json.status.error).toMatch(/^Rate limiting exceeded: Write rate limit exceeded/);
    // Reads are not writes: acme still reads.
    expect(await count('acme')).toBe(10);
    // The native key-value API counts against the same tenant rate.
    const native = await app.inject({ method: 'POST', url: '/v1/tenants/acme/transact', headers: { authorization: `Bearer ${tokens['acme-admin']}`, 'content-type': 'application/json' }, payload: JSON.stringify({ ops: [{ op: 'set', key: 'YQ==', value: 'Yg==' }] }) });
    expect({ status: native.statusCode, code: native.json().error.code, retryAfter: native.headers['retry-after'] }).toEqual({ status: 429, code: 'ERR_RATE_LIMITED', retryAfter: '6' });
    // A minute later the bucket is full again.
    clock += 60_000;
    expect((await upsert('acme-admin', 'acme', 6000)).status).toBe(200);
    // Counted by tenant label (acme gets its own once busy; before, it counts as other).
    const limited = [...(await metrics.render()).matchAll(/^strata_rate_limited_total\{scope="tenant",kind="write",tenant="(?:acme|other)"\} (\d+)$/gm)];
    expect(limited.reduce((n, m) => n + Number(m[1]), 0)).toBe(92);
  });

  it('a subject’s read rate binds that user only', async () => {
    clock += 120_000;
    const read = (who: string) => send(who, 'POST', '/collections/docs/points/count', {}, 'acme');
    for (let i = 0; i < 5; i++) expect((await read('alice')).status).toBe(200);
    expect(await read('alice')).toMatchObject({ status: 429, code: 'ERR_RATE_LIMITED' });
    for (let i = 0; i < 5; i++) expect((await read('bob')).status).toBe(200);
  });

  it('a tenant’s own limits win over the defaults; 0 lifts one', async () => {
    clock += 120_000;
    await db.transact(tx => setTenantLimits(tx, 'globex', { write_rate_limit: 0 }));
    for (let i = 0; i < 30; i++) expect((await upsert('globex-admin', 'globex', 2000 + i)).status).toBe(200);
    await db.transact(tx => setTenantLimits(tx, 'globex', { write_rate_limit: null }));
    clock += 120_000;
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await upsert('globex-admin', 'globex', 3000 + i)).status);
    expect(statuses.filter(s => s === 200)).toHaveLength(10);
    await expect(db.transact(tx => setTenantLimits(tx, 'globex', { max_points: -1 }))).rejects.toMatchObject({ code: 'ERR_REQUEST_INVALID' });
    await expect(db.transact(tx => setTenantLimits(tx, 'globex', { burst: 1 }))).rejects.toMatchObject({ code: 'ERR_REQUEST_INVALID' });
  });

  it('a quota on points is exact when writers race for the last places', async () => {
    await db.transact(tx => setTenantLimits(tx, 'initech', { max_points: 50, write_rate_limit: 0 }));
    // 30 writers of 5 new points each, all at once: exactly 10 batches fit.
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => upsert('initech-admin', 'initech', i * 100, 5)));
    const ok = results.filter(r => r.status === 200).length;
    for (const r of results) if (r.status !== 200) expect(['ERR_QUOTA_EXCEEDED', 'ERR_KV_NOT_COMMITTED']).toContain(r.code);
    expect(await count('initech')).toBe(ok * 5);
    expect(ok * 5).toBeLessThanOrEqual(50);
    // Fill what is left one point at a time: the quota is met exactly, never passed.
    for (let id = 10_000; (await count('initech')) < 50; id++) expect((await upsert('initech-admin', 'initech', id)).status).toBe(200);
    const over = await upsert('initech-admin', 'initech', 99_999);
    expect(over).toMatchObject({ status: 400, code: 'ERR_QUOTA_EXCEEDED' });
    expect(over.json.status.error).toBe('Bad request: Tenant quota exceeded: 51 > 50 for "max_points". Help: delete points or ask an operator to raise the tenant\'s max_points.');
    expect(await count('initech')).toBe(50);
    // Replacing a point and deleting one always pass; then there is room for one.
    const stored = results.findIndex(r => r.status === 200) * 100;
    expect((await upsert('initech-admin', 'initech', stored)).status).toBe(200);
    expect((await send('initech-admin', 'POST', '/collections/docs/points/delete', { points: [stored] }, 'initech')).status).toBe(200);
    expect((await upsert('initech-admin', 'initech', stored)).status).toBe(200);
  });

  it('a quota on bytes counts payloads and vectors across collections', async () => {
    // Each point: a record of 1 + 16 bytes ({"t":"xxxxxxxx"}) and a vector of 8: 25 bytes, 50 of them stored.
    await db.transact(tx => setTenantLimits(tx, 'initech', { max_points: 0, max_bytes: 51 * 25 }));
    expect((await upsert('initech-admin', 'initech', 20_000)).status).toBe(200);
    const over = await upsert('initech-admin', 'initech', 20_001);
    expect(over).toMatchObject({ status: 400, code: 'ERR_QUOTA_EXCEEDED' });
    expect(over.json.status.error).toContain(`${52 * 25} > ${51 * 25} for "max_bytes"`);
    expect((await send('initech-admin', 'PUT', '/collections/other', { vectors: { size: 2, distance: 'Dot' } }, 'initech')).status).toBe(200);
    expect((await send('initech-admin', 'PUT', '/collections/other/points', { points: [{ id: 1, vector: [1, 1] }] }, 'initech')).status).toBe(400);
    // Deleting a collection gives its bytes back.
    expect((await send('initech-admin', 'POST', '/collections/docs/points/delete', { points: [20_000] }, 'initech')).status).toBe(200);
    expect((await send('initech-admin', 'PUT', '/collections/other/points', { points: [{ id: 1, vector: [1, 1] }] }, 'initech')).status).toBe(200);
  });
});
