import { QdrantClient } from '@qdrant/js-client-rest';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import { devCertificatePaths, type DevCertificates } from '../../src/server/dev-certs.js';
import { claims, makeKey, memoryLogger, sign, writeJwks, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { call, startServer, type TestServer } from './harness.js';

/**
 * Qdrant's own JavaScript client (1.18), unchanged, against a real Strata TLS listener: the flows of
 * a multitenant SaaS as Qdrant's documentation teaches them.
 */
describe('the Qdrant JavaScript client', () => {
  let certs: DevCertificates;
  let server: TestServer;
  let key: TestKey;
  let removeDir: () => Promise<void>;
  let client: QdrantClient;
  const warn = vi.spyOn(console, 'warn');

  beforeAll(async () => {
    certs = devCertificatePaths(process.env['STRATA_TEST_CERTS_DIR'] as string);
    const t = await tempDir('strata-qdrant');
    removeDir = t.remove;
    key = await makeKey('ES256', 'q-1');
    const jwks = join(t.dir, 'jwks.json');
    await writeJwks(jwks, [key.publicJwk]);
    server = await startServer(certs, { verifier: new TokenVerifier(await KeySet.load(jwks, { logger: memoryLogger() })) });
    expect((await call(server.port, 'POST', '/v1/admin/tenants', { ca: certs.caCert, client: { cert: certs.operatorCert, key: certs.operatorKey }, body: { name: 'saas' } })).status).toBe(201);
    const token = await sign(key, claims(Math.floor(Date.now() / 1000), ['saas']));
    client = new QdrantClient({ url: `https://localhost:${server.port}`, apiKey: token });
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await removeDir();
  });

  it('connects without a version warning', async () => {
    const info = await client.versionInfo();
    expect(info.version).toMatch(/^1\.18\./);
    await new Promise(resolve => setTimeout(resolve, 100)); // the constructor's check runs in the background
    expect(warn.mock.calls.filter(c => String(c[0]).includes('version'))).toEqual([]);
  });

  it('creates a multitenant collection with a tenant index and answers tenant-filtered queries', async () => {
    expect(await client.createCollection('docs', { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: { m: 0, payload_m: 16 } })).toBe(true);
    expect(await client.collectionExists('docs')).toEqual({ exists: true });
    await client.createPayloadIndex('docs', { field_name: 'tenant_id', field_schema: { type: 'keyword', is_tenant: true }, wait: true });
    await client.createPayloadIndex('docs', { field_name: 'created', field_schema: 'datetime', wait: true });
    const points = [
      { id: 1, vector: [1, 0, 0, 0], payload: { tenant_id: 'acme', org_id: 'o1', dept_id: 'sales', created: '2024-01-10T00:00:00Z' } },
      { id: 2, vector: [0.9, 0.1, 0, 0], payload: { tenant_id: 'acme', org_id: 'o1', dept_id: 'eng', created: '2024-02-10T00:00:00Z' } },
      { id: 3, vector: [0, 1, 0, 0], payload: { tenant_id: 'acme', org_id: 'o2', dept_id: 'eng', created: '2024-03-10T00:00:00Z' } },
      { id: 4, vector: [1, 0, 0, 0], payload: { tenant_id: 'globex', org_id: 'o9', dept_id: 'sales', created: '2024-01-15T00:00:00Z' } },
      { id: '5c56c793-69f3-4fbf-87e6-c4bf54c28c26', vector: [0, 0, 1, 0], payload: { tenant_id: 'globex', org_id: 'o9', dept_id: 'eng' } },
    ];
    expect(await client.upsert('docs', { wait: true, points })).toMatchObject({ status: 'completed' });

    const acme = await client.query('docs', { query: [1, 0, 0, 0], filter: { must: [{ key: 'tenant_id', match: { value: 'acme' } }] }, limit: 10, with_payload: true });
    expect(acme.points.map(p => p.id)).toEqual([1, 2, 3]);
    expect(acme.points[0]!.score).toBeCloseTo(1, 5);
    expect(acme.points.every(p => (p.payload as { tenant_id: string }).tenant_id === 'acme')).toBe(true);

    const orgDept = await client.query('docs', {
      query: [1, 0, 0, 0],
      filter: { must: [{ key: 'tenant_id', match: { value: 'acme' } }, { key: 'org_id', match: { value: 'o1' } }, { key: 'dept_id', match: { any: ['eng', 'ops'] } }] },
    });
    expect(orgDept.points.map(p => p.id)).toEqual([2]);

    const february = await client.scroll('docs', { filter: { must: [{ key: 'created', range: { gte: '2024-01-12T00:00:00Z', lt: '2024-03-01T00:00:00Z' } }] } });
    expect(february.points.map(p => p.id)).toEqual([2, 4]);
    expect(february.next_page_offset ?? null).toBeNull();

    expect(await client.count('docs', { filter: { must: [{ key: 'tenant_id', match: { value: 'globex' } }] } })).toEqual({ count: 2 });
    const info = await client.getCollection('docs');
    expect(info.points_count).toBe(5);
    expect(info.payload_schema['tenant_id']).toMatchObject({ data_type: 'keyword', params: { is_tenant: true } });
    expect(info.config.hnsw_config).toMatchObject({ m: 0, payload_m: 16 });
  });

  it('retrieves, searches, pages, updates payloads and deletes as Qdrant does', async () => {
    const [p1] = await client.retrieve('docs', { ids: [1], with_vector: true });
    expect(p1).toMatchObject({ id: 1, payload: { tenant_id: 'acme' } });
    expect(p1!.vector).toHaveLength(4);
    const hits = await client.search('docs', { vector: [0, 0, 1, 0], limit: 1 });
    expect(hits[0]).toMatchObject({ id: '5c56c793-69f3-4fbf-87e6-c4bf54c28c26' });
    const page1 = await client.scroll('docs', { limit: 2 });
    expect(page1.points.map(p => p.id)).toEqual([1, 2]);
    const page2 = await client.scroll('docs', { limit: 10, offset: page1.next_page_offset as number });
    expect(page2.points.map(p => p.id)).toEqual([3, 4, '5c56c793-69f3-4fbf-87e6-c4bf54c28c26']);
    const byPoint = await client.query('docs', { query: 1, limit: 2 });
    expect(byPoint.points.map(p => p.id)).not.toContain(1);
    expect(byPoint.points[0]).toMatchObject({ id: 4 });

    await client.setPayload('docs', { payload: { reviewed: true }, points: [1, 2] });
    expect(await client.count('docs', { filter: { must: [{ key: 'reviewed', match: { value: true } }] } })).toEqual({ count: 2 });
    await client.deletePayload('docs', { keys: ['reviewed'], points: [2] });
    await client.overwritePayload('docs', { payload: { tenant_id: 'acme' }, points: [3] });
    expect((await client.retrieve('docs', { ids: [2, 3] })).map(p => p.payload)).toEqual([
      { tenant_id: 'acme', org_id: 'o1', dept_id: 'eng', created: '2024-02-10T00:00:00Z' },
      { tenant_id: 'acme' },
    ]);
    await client.delete('docs', { wait: true, filter: { must: [{ key: 'tenant_id', match: { value: 'globex' } }] } });
    expect(await client.count('docs', {})).toEqual({ count: 3 });
    expect((await client.getCollection('docs')).points_count).toBe(3);
  });

  it('works with named vectors, string ids, batch upserts and query batches', async () => {
    await client.recreateCollection('media', { vectors: { text: { size: 2, distance: 'Dot' }, image: { size: 3, distance: 'Euclid' } } });
    await client.upsert('media', {
      batch: { ids: ['acme_1', 'acme_2'], vectors: { text: [[1, 0], [0, 1]], image: [[0, 0, 0], [3, 4, 0]] }, payloads: [{ kind: 'a' }, { kind: 'b' }] },
    });
    const byText = await client.query('media', { query: [1, 0], using: 'text', with_vector: ['image'] });
    expect(byText.points.map(p => [p.id, p.score])).toEqual([['acme_1', 1], ['acme_2', 0]]);
    expect(byText.points[0]!.vector).toEqual({ image: [0, 0, 0] });
    // Euclid: the distance itself, nearest first.
    const byImage = await client.search('media', { vector: { name: 'image', vector: [0, 0, 0] }, limit: 2, with_payload: false });
    expect(byImage.map(p => [p.id, p.score])).toEqual([['acme_1', 0], ['acme_2', 5]]);
    const batch = await client.queryBatch('media', { searches: [{ query: [0, 1], using: 'text', limit: 1 }, { query: 'acme_1', using: 'image', limit: 1 }] });
    expect(batch.map(r => r.points.map(p => p.id))).toEqual([['acme_2'], ['acme_2']]);
    expect(await client.deleteCollection('media')).toBe(true);
  });

  it('keeps points apart by shard key in a custom-sharded collection', async () => {
    await client.createCollection('sharded', { vectors: { size: 2, distance: 'Dot' }, sharding_method: 'custom' });
    await client.createShardKey('sharded', { shard_key: 'eu' });
    await client.createShardKey('sharded', { shard_key: 'us' });
    expect(await client.listShardKeys('sharded')).toEqual({ shard_keys: [{ key: 'eu' }, { key: 'us' }] });
    await client.upsert('sharded', { points: [{ id: 1, vector: [1, 0] }], shard_key: 'eu' });
    await client.upsert('sharded', { points: [{ id: 2, vector: [1, 0] }], shard_key: 'us' });
    await expect(client.upsert('sharded', { points: [{ id: 3, vector: [1, 0] }] })).rejects.toMatchObject({ status: 400 });
    expect((await client.query('sharded', { query: [1, 0], shard_key: 'us' })).points.map(p => p.id)).toEqual([2]);
    expect((await client.scroll('sharded', {})).points.map(p => [p.id, p.shard_key])).toEqual([[1, 'eu'], [2, 'us']]);
    await client.deleteShardKey('sharded', { shard_key: 'eu' });
    expect(await client.count('sharded', {})).toEqual({ count: 1 });
  });

  it('reports errors with Qdrant’s statuses and messages', async () => {
    await expect(client.getCollection('nope')).rejects.toMatchObject({ status: 404 });
    await expect(client.createCollection('docs', { vectors: { size: 4, distance: 'Cosine' } })).rejects.toMatchObject({ status: 409 });
    await expect(client.upsert('docs', { points: [{ id: 9, vector: [1, 2, 3] }] })).rejects.toMatchObject({ status: 400 });
    expect(await client.count('docs', {})).toEqual({ count: 3 });
    expect(await client.deleteCollection('docs')).toBe(true);
    expect(await client.collectionExists('docs')).toEqual({ exists: false });
  });
});
