import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTestApp } from './harness.js';

/**
 * Bad input on the Qdrant API: each is refused with 400 (or 413/501) and a stable code in Qdrant's
 * error shape, and nothing is written (a batch with one bad point writes none of its points).
 */
describe('the Qdrant API refuses bad input and writes nothing', () => {
  let db: Database;
  let app: FastifyInstance;
  let remove: () => Promise<void>;
  const send = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      headers: { 'x-strata-tenant': 'acme', 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
  const count = async () => (await send('POST', '/collections/c/points/count', {})).json().result.count as number;
  const refused = async (res: Awaited<ReturnType<typeof send>>, status: number, code: string) => {
    expect({ status: res.statusCode, code: res.json().status?.code }).toEqual({ status, code });
    expect(typeof res.json().status.error).toBe('string');
    expect(await count()).toBe(1);
  };

  beforeAll(async () => {
    const t = await tempDir('strata-qdrant-input');
    remove = t.remove;
    db = await openDatabase({ dataDir: t.dir });
    await db.transact(tx => createTenant(tx, 'acme'));
    app = buildTestApp(db);
    await app.ready();
    expect((await send('PUT', '/collections/c', { vectors: { size: 3, distance: 'Euclid' } })).statusCode).toBe(200);
    expect((await send('PUT', '/collections/c/points?wait=true', { points: [{ id: 1, vector: [1, 2, 3], payload: { a: 1 } }] })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await remove();
  });

  it('refuses vectors of the wrong size or with values that are not finite float32s', async () => {
    const ok = { id: 2, vector: [1, 2, 3] };
    await refused(await send('PUT', '/collections/c/points', { points: [ok, { id: 3, vector: [1, 2] }] }), 400, 'ERR_VECTOR_INVALID');
    await refused(await send('PUT', '/collections/c/points', '{"points":[{"id":3,"vector":[1,2,1e999]}]}'), 400, 'ERR_VECTOR_INVALID');
    await refused(await send('PUT', '/collections/c/points', { points: [{ id: 3, vector: [1, 2, 1e39] }] }), 400, 'ERR_VECTOR_INVALID');
    await refused(await send('PUT', '/collections/c/points', { points: [{ id: 3, vector: [1, 'x', 3] }] }), 400, 'ERR_VECTOR_INVALID');
    await refused(await send('PUT', '/collections/c/points', '{"points":[{"id":3,"vector":[1,2,NaN]}]}'), 400, 'ERR_REQUEST_INVALID');
    await refused(await send('PUT', '/collections/c/points', { points: [{ id: 3, vector: { other: [1, 2, 3] } }] }), 400, 'ERR_VECTOR_INVALID');
    // A name every object inherits is no vector of the collection.
    await refused(await send('PUT', '/collections/c/points', { points: [{ id: 3, vector: { constructor: [1, 2, 3] } }] }), 400, 'ERR_VECTOR_INVALID');
    await refused(await send('POST', '/collections/c/points/search', { vector: { name: 'constructor', vector: [1, 2, 3] }, limit: 1 }), 400, 'ERR_VECTOR_INVALID');
    await refused(await send('PUT', '/collections/c/points', { batch: { ids: [3, 4], vectors: [[1, 2, 3]] } }), 400, 'ERR_QUERY_INVALID');
    await refused(await send('POST', '/collections/c/points/search', { vector: [1, 2], limit: 1 }), 400, 'ERR_VECTOR_INVALID');
  });

  it('refuses bad point ids', async () => {
    for (const id of [-1, 1.5, '', 'x'.repeat(257), 2 ** 53, { a: 1 }, null, true]) {
      await refused(await send('PUT', '/collections/c/points', { points: [{ id: 2, vector: [1, 2, 3] }, { id, vector: [1, 2, 3] }] }), 400, 'ERR_POINT_ID_INVALID');
    }
  });

  it('refuses unknown distances, bad sizes and unsupported collection features', async () => {
    for (const body of [{ vectors: { size: 3, distance: 'Hamming' } }, { vectors: { size: 0, distance: 'Dot' } }, { vectors: { size: 3 } }, { vectors: 'big' }, {}]) {
      const res = await send('PUT', '/collections/d', body);
      expect({ status: res.statusCode, code: res.json().status.code }).toEqual({ status: 400, code: 'ERR_COLLECTION_CONFIG_INVALID' });
    }
    const sparse = await send('PUT', '/collections/d', { vectors: { size: 3, distance: 'Dot' }, sparse_vectors: { s: {} } });
    expect({ status: sparse.statusCode, code: sparse.json().status.code }).toEqual({ status: 501, code: 'ERR_FEATURE_UNSUPPORTED' });
    expect((await send('GET', '/collections/d/exists')).json().result).toEqual({ exists: false });
    expect((await send('PUT', '/collections/bad%2Fname', { vectors: { size: 3, distance: 'Dot' } })).json().status.code).toBe('ERR_COLLECTION_NAME_INVALID');
  });

  it('refuses bad filters on every route that takes one', async () => {
    const filters = [{ must: [{ key: 'a', match: {} }] }, { must: [{ key: 'a', range: {} }] }, { should: 'x' }, { must: [{ has_id: [-1] }] }, { must: [{ key: 'a', match: { value: 1.5 } }] }, { unknown: [] }];
    for (const filter of filters) {
      await refused(await send('POST', '/collections/c/points/count', { filter }), 400, 'ERR_FILTER_INVALID');
      await refused(await send('POST', '/collections/c/points/scroll', { filter }), 400, 'ERR_FILTER_INVALID');
      await refused(await send('POST', '/collections/c/points/query', { query: [1, 2, 3], filter }), 400, 'ERR_FILTER_INVALID');
      await refused(await send('POST', '/collections/c/points/delete', { filter }), 400, 'ERR_FILTER_INVALID');
    }
  });

  it('refuses oversized batches, payloads that are not objects, and unsupported queries', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({ id: i + 10, vector: [1, 2, 3] }));
    await refused(await send('PUT', '/collections/c/points', { points: many }), 413, 'ERR_REQUEST_TOO_LARGE');
    await refused(await send('PUT', '/collections/c/points', { points: [{ id: 2, vector: [1, 2, 3], payload: [1] }] }), 400, 'ERR_PAYLOAD_INVALID');
    await refused(await send('PUT', '/collections/c/points', { points: [{ id: 2, vector: [1, 2, 3], payload: { big: 'x'.repeat(100_001) } }] }), 400, 'ERR_POINT_TOO_LARGE');
    await refused(await send('PUT', '/collections/c/points', { nothing: [] }), 400, 'ERR_QUERY_INVALID');
    await refused(await send('POST', '/collections/c/points/query', { query: { recommend: { positive: [1] } } }), 501, 'ERR_FEATURE_UNSUPPORTED');
    await refused(await send('POST', '/collections/c/points/query', { query: [1, 2, 3], limit: 0 }), 400, 'ERR_QUERY_INVALID');
    await refused(await send('POST', '/collections/c/points/payload', { payload: { a: 2 }, points: [1], key: 'x.y' }), 501, 'ERR_FEATURE_UNSUPPORTED');
    expect((await send('POST', '/collections/c/points', { ids: [1] })).json().result).toEqual([{ id: 1 }]);
    expect((await send('GET', '/collections/c/points/1')).json().result).toEqual({ id: 1, payload: { a: 1 }, vector: [1, 2, 3] });
  });

  it('refuses query vectors that are not finite float32s, deep payloads and too many ids', async () => {
    await refused(await send('POST', '/collections/c/points/search', { vector: [1e39, 1, 1], limit: 3 }), 400, 'ERR_VECTOR_INVALID');
    await refused(await send('POST', '/collections/c/points/query', { query: [1e300, 1, 1] }), 400, 'ERR_VECTOR_INVALID');
    // Built as text: 5,000 levels are past what JSON.stringify (and so a naive server) can recurse.
    const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
    await refused(await send('PUT', '/collections/c/points', `{"points":[{"id":2,"vector":[1,2,3],"payload":{"a":${deep}}}]}`), 400, 'ERR_PAYLOAD_INVALID');
    await refused(await send('POST', '/collections/c/points/payload', `{"payload":{"a":${deep}},"points":[1]}`), 400, 'ERR_PAYLOAD_INVALID');
    const ids = Array.from({ length: 10_001 }, (_, i) => i);
    await refused(await send('POST', '/collections/c/points', { ids }), 413, 'ERR_REQUEST_TOO_LARGE');
    await refused(await send('POST', '/collections/c/points/delete', { points: ids }), 413, 'ERR_REQUEST_TOO_LARGE');
  });

  it('deletes and hides nested payload keys by path, as Qdrant', async () => {
    await send('PUT', '/collections/c/points?wait=true', { points: [{ id: 7, vector: [1, 2, 3], payload: { meta: { secret: 's', keep: 1 }, tags: [{ x: 1, y: 2 }] } }] });
    const hidden = await send('POST', '/collections/c/points', { ids: [7], with_payload: { exclude: ['meta.secret', 'tags[].y'] } });
    expect(hidden.json().result).toEqual([{ id: 7, payload: { meta: { keep: 1 }, tags: [{ x: 1 }] } }]);
    await send('POST', '/collections/c/points/payload/delete', { points: [7], keys: ['meta.secret'] });
    expect((await send('GET', '/collections/c/points/7')).json().result.payload).toEqual({ meta: { keep: 1 }, tags: [{ x: 1, y: 2 }] });
    await send('POST', '/collections/c/points/delete', { points: [7] });
  });

  it('indexes keyword values of any length', async () => {
    const long = 'w'.repeat(3000);
    expect((await send('PUT', '/collections/c/index', { field_name: 'k', field_schema: 'keyword' })).statusCode).toBe(200);
    expect((await send('PUT', '/collections/c/points?wait=true', { points: [{ id: 8, vector: [1, 2, 3], payload: { k: long } }, { id: 9, vector: [1, 2, 3], payload: { k: `${long}x` } }] })).statusCode).toBe(200);
    const counted = await send('POST', '/collections/c/points/count', { filter: { must: [{ key: 'k', match: { value: long } }] } });
    expect(counted.json().result).toEqual({ count: 1 });
    const scrolled = await send('POST', '/collections/c/points/scroll', { filter: { must: [{ key: 'k', match: { value: `${long}x` } }] }, with_payload: false });
    expect(scrolled.json().result.points).toEqual([{ id: 9 }]);
    expect((await send('PUT', '/collections/c/index', { field_name: 'f'.repeat(600), field_schema: 'keyword' })).json().status.code).toBe('ERR_INDEX_INVALID');
    await send('POST', '/collections/c/points/delete', { points: [8, 9] });
    await send('DELETE', '/collections/c/index/k');
  });

  it('answers 404 for a missing collection or point, in Qdrant’s shape', async () => {
    const missing = await send('POST', '/collections/nope/points/count', {});
    expect(missing.statusCode).toBe(404);
    expect(missing.json().status).toEqual({ error: 'Not found: Collection `nope` doesn\'t exist!', code: 'ERR_COLLECTION_NOT_FOUND', details: { collection: 'nope' } });
    const point = await send('GET', '/collections/c/points/99');
    expect(point.statusCode).toBe(404);
    expect(point.json().status.error).toBe('Not found: Point with id 99 does not exists!');
  });
});
