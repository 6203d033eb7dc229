import { QdrantClient } from '@qdrant/js-client-rest';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import { devCertificatePaths } from '../../src/server/dev-certs.js';
import { VectorIndexer } from '../../layers/vector/indexer.js';
import { b64, claims, makeKey, memoryLogger, sign, writeJwks } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { call, startServer, type TestServer } from './harness.js';

/**
 * The vector index end to end through Qdrant's client: a multitenant collection (`m: 0,
 * payload_m: 16`, `is_tenant` index) indexed by the background indexer, queried per tenant by
 * payload-scoped tokens and by a tenant filter.
 */
let server: TestServer;
let removeDir: () => Promise<void>;
let admin: QdrantClient;
let acme: QdrantClient;

beforeAll(async () => {
  const certs = devCertificatePaths(process.env['STRATA_TEST_CERTS_DIR'] as string);
  const t = await tempDir('strata-qdrant-index');
  removeDir = t.remove;
  const key = await makeKey('ES256', 'k');
  const jwks = join(t.dir, 'jwks.json');
  await writeJwks(jwks, [key.publicJwk]);
  server = await startServer(certs, { verifier: new TokenVerifier(await KeySet.load(jwks, { logger: memoryLogger() })) });
  expect((await call(server.port, 'POST', '/v1/admin/tenants', { ca: certs.caCert, client: { cert: certs.operatorCert, key: certs.operatorKey }, body: { name: 'saas' } })).status).toBe(201);
  const now = Math.floor(Date.now() / 1000);
  const url = `https://localhost:${server.port}`;
  admin = new QdrantClient({ url, apiKey: await sign(key, claims(now, ['saas'])), checkCompatibility: false });
  acme = new QdrantClient({ url, apiKey: await sign(key, { ...claims(now, ['saas']), tenants: [b64('saas')], access: [{ collection: 'docs', access: 'r', payload: { tenant_id: 'acme' } }] }), checkCompatibility: false });
}, 60_000);
afterAll(async () => {
  await server.close();
  await removeDir();
});

it('indexes in the background and answers tenant-pinned queries from the tenant graphs', async () => {
  await admin.createCollection('docs', { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: { m: 0, payload_m: 16, full_scan_threshold: 0 } });
  await admin.createPayloadIndex('docs', { field_name: 'tenant_id', field_schema: { type: 'keyword', is_tenant: true }, wait: true });
  const tenants = ['acme', 'globex', 'initech'];
  const points = Array.from({ length: 300 }, (_, id) => ({ id, vector: [Math.sin(id), Math.cos(id), Math.sin(id / 3), 1], payload: { tenant_id: tenants[id % 3] as string } }));
  await admin.upsert('docs', { wait: true, points });
  expect(await admin.getCollection('docs')).toMatchObject({ indexed_vectors_count: 0, status: 'yellow' });
  // Found before indexing (from the pending tail) ...
  const before = await acme.query('docs', { query: [1, 0, 0, 1], limit: 10, with_payload: true });
  expect(before.points).toHaveLength(10);
  expect(before.points.every(p => (p.payload as { tenant_id: string }).tenant_id === 'acme')).toBe(true);
  const indexer = new VectorIndexer(server.db);
  while (await indexer.runOnce());
  expect(await admin.getCollection('docs')).toMatchObject({ indexed_vectors_count: 300, status: 'green' });
  // ... and after, from acme's graph: the same answer as exact search, only acme's points.
  const after = await acme.query('docs', { query: [1, 0, 0, 1], limit: 10, with_payload: true });
  const exact = await admin.query('docs', { query: [1, 0, 0, 1], limit: 10, filter: { must: [{ key: 'tenant_id', match: { value: 'acme' } }] }, params: { exact: true } });
  expect(after.points.every(p => (p.payload as { tenant_id: string }).tenant_id === 'acme')).toBe(true);
  expect(after.points.map(p => p.id)).toEqual(exact.points.map(p => p.id));
  const filtered = await admin.query('docs', { query: [1, 0, 0, 1], limit: 10, filter: { must: [{ key: 'tenant_id', match: { value: 'globex' } }] } });
  expect(filtered.points.map(p => Number(p.id) % 3)).toEqual(Array(10).fill(1));
});
