import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { NO_LIMITS, RequestLimits } from '../../src/server/limits.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTestApp } from './harness.js';

/**
 * Qdrant's strict mode, field by field: each limit is met (the request runs) and passed by one
 * (refused with 400 `ERR_STRICT_MODE` and Qdrant's message, nothing written). Rates run on a clock
 * the test moves.
 */

interface Sent {
  status: number;
  body: { result?: unknown; status?: { error: string; code: string } | string };
  retryAfter: string | undefined;
}

describe('strict mode (Qdrant strict_mode_config)', () => {
  let db: Database;
  let app: FastifyInstance;
  let remove: () => Promise<void>;
  let clock = 1_000_000;

  const send = async (method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, tenant = 'acme'): Promise<Sent> => {
    const res = await app.inject({ method, url, headers: { 'x-strata-tenant': tenant, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
    return { status: res.statusCode, body: res.json(), retryAfter: res.headers['retry-after'] as string | undefined };
  };
  const refusedWith = (res: Sent, message: string) => {
    expect(res.status).toBe(400);
    expect(res.body.status).toEqual({ error: message, code: 'ERR_STRICT_MODE', details: expect.any(Object) });
  };
  const count = async (collection: string, tenant = 'acme') => ((await send('POST', `/collections/${collection}/points/count`, {}, tenant)).body.result as { count: number }).count;
  const points = (from: number, n: number, payload: Record<string, unknown> = {}) => Array.from({ length: n }, (_, i) => ({ id: from + i, vector: [1, i, 0], payload }));
  const create = async (name: string, strict: Record<string, unknown>, tenant = 'acme') => {
    expect((await send('PUT', `/collections/${name}`, { vectors: { size: 3, distance: 'Dot' }, strict_mode_config: { enabled: true, ...strict } }, tenant)).status).toBe(200);
  };

  beforeAll(async () => {
    const t = await tempDir('strata-strict');
    remove = t.remove;
    db = await openDatabase({ dataDir: t.dir });
    await db.transact(async tx => {
      await createTenant(tx, 'acme');
      await createTenant(tx, 'globex');
    });
    app = buildTestApp(db, { limits: new RequestLimits(NO_LIMITS, { now: () => clock }) });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await remove();
  });

  it('reports the settings, keeps them when disabled, and merges a PATCH', async () => {
    expect((await send('PUT', '/collections/cfg', { vectors: { size: 3, distance: 'Dot' }, strict_mode_config: { enabled: false, max_query_limit: 2 } })).status).toBe(200);
    const info = async () => ((await send('GET', '/collections/cfg')).body.result as { config: { strict_mode_config: unknown } }).config.strict_mode_config;
    expect(await info()).toEqual({ enabled: false, max_query_limit: 2 });
    // Disabled: the limit is kept but not applied.
    expect((await send('POST', '/collections/cfg/points/query', { query: [1, 0, 0], limit: 3 })).status).toBe(200);
    expect((await send('PATCH', '/collections/cfg', { strict_mode_config: { enabled: true, search_max_hnsw_ef: 8 } })).status).toBe(200);
    expect(await info()).toEqual({ enabled: true, max_query_limit: 2, search_max_hnsw_ef: 8 });
    refusedWith(await send('POST', '/collections/cfg/points/query', { query: [1, 0, 0], limit: 3 }), 'Bad request: Strict mode error: Limit exceeded 3 > 2 for "limit". Help: Reduce the "limit" parameter to or below 2.');
    // null clears one field.
    expect((await send('PATCH', '/collections/cfg', { strict_mode_config: { max_query_limit: null } })).status).toBe(200);
    expect(await info()).toEqual({ enabled: true, search_max_hnsw_ef: 8 });
    for (const bad of [{ max_query_limit: -1 }, { max_query_limit: 1.5 }, { enabled: 'yes' }, { nonsense: 1 }]) {
      const res = await send('PATCH', '/collections/cfg', { strict_mode_config: bad });
      expect(res.status).toBe(400);
      expect(await info()).toEqual({ enabled: true, search_max_hnsw_ef: 8 });
    }
  });

  it('max_query_limit: search, query and scroll (whose default limit is 10) at and past it', async () => {
    await create('ql', { max_query_limit: 5 });
    expect((await send('PUT', '/collections/ql/points', { points: points(1, 3) })).status).toBe(200);
    expect((await send('POST', '/collections/ql/points/search', { vector: [1, 0, 0], limit: 5 })).status).toBe(200);
    refusedWith(await send('POST', '/collections/ql/points/search', { vector: [1, 0, 0], limit: 6 }), 'Bad request: Strict mode error: Limit exceeded 6 > 5 for "limit". Help: Reduce the "limit" parameter to or below 5.');
    refusedWith(await send('POST', '/collections/ql/points/query', { query: [1, 0, 0], limit: 6 }), 'Bad request: Strict mode error: Limit exceeded 6 > 5 for "limit". Help: Reduce the "limit" parameter to or below 5.');
    refusedWith(await send('POST', '/collections/ql/points/scroll', {}), 'Bad request: Strict mode error: Limit exceeded 10 > 5 for "limit". Help: Reduce the "limit" parameter to or below 5.');
    expect((await send('POST', '/collections/ql/points/scroll', { limit: 5 })).status).toBe(200);
  });

  it('max_timeout: the timeout parameter at and past it', async () => {
    await create('to', { max_timeout: 2 });
    expect((await send('POST', '/collections/to/points/count?timeout=2', {})).status).toBe(200);
    refusedWith(await send('POST', '/collections/to/points/count?timeout=3', {}), 'Bad request: Strict mode error: Limit exceeded 3 > 2 for "timeout". Help: Reduce the "timeout" parameter to or below 2.');
    const bad = await send('POST', '/collections/to/points/count?timeout=soon', {});
    expect({ status: bad.status, code: (bad.body.status as { code: string }).code }).toEqual({ status: 400, code: 'ERR_QUERY_INVALID' });
  });

  it('search_max_hnsw_ef, search_allow_exact and search_max_batchsize', async () => {
    await create('sp', { search_max_hnsw_ef: 32, search_allow_exact: false, search_max_batchsize: 2 });
    expect((await send('POST', '/collections/sp/points/query', { query: [1, 0, 0], params: { hnsw_ef: 32 } })).status).toBe(200);
    refusedWith(await send('POST', '/collections/sp/points/query', { query: [1, 0, 0], params: { hnsw_ef: 33 } }), 'Bad request: Strict mode error: Limit exceeded 33 > 32 for "hnsw_ef". Help: Reduce the "hnsw_ef" parameter to or below 32.');
    expect((await send('POST', '/collections/sp/points/query', { query: [1, 0, 0], params: { exact: false } })).status).toBe(200);
    refusedWith(await send('POST', '/collections/sp/points/query', { query: [1, 0, 0], params: { exact: true } }), 'Bad request: Strict mode error: Exact search disabled!. Help: Set exact=false.');
    const search = { vector: [1, 0, 0], limit: 1 };
    expect((await send('POST', '/collections/sp/points/search/batch', { searches: [search, search] })).status).toBe(200);
    refusedWith(await send('POST', '/collections/sp/points/search/batch', { searches: [search, search, search] }), 'Bad request: Strict mode error: Limit exceeded 3 > 2 for "search batch size". Help: Reduce the "search batch size" parameter to or below 2.');
    refusedWith(await send('POST', '/collections/sp/points/query/batch', { searches: [{ query: [1, 0, 0] }, { query: [1, 0, 0] }, { query: [1, 0, 0] }] }), 'Bad request: Strict mode error: Limit exceeded 3 > 2 for "search batch size". Help: Reduce the "search batch size" parameter to or below 2.');
  });

  it('upsert_max_batchsize: upserts and vector updates at and past it, nothing written past it', async () => {
    await create('ub', { upsert_max_batchsize: 3 });
    expect((await send('PUT', '/collections/ub/points', { points: points(1, 3) })).status).toBe(200);
    refusedWith(await send('PUT', '/collections/ub/points', { points: points(10, 4) }), 'Bad request: Strict mode error: Limit exceeded 4 > 3 for "upsert limit". Help: Reduce the "upsert limit" parameter to or below 3.');
    refusedWith(await send('PUT', '/collections/ub/points', { batch: { ids: [10, 11, 12, 13], vectors: [[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]] } }), 'Bad request: Strict mode error: Limit exceeded 4 > 3 for "upsert limit". Help: Reduce the "upsert limit" parameter to or below 3.');
    expect(await count('ub')).toBe(3);
    const vectors = (n: number) => ({ points: Array.from({ length: n }, (_, i) => ({ id: (i % 3) + 1, vector: [0, 0, 1] })) });
    expect((await send('PUT', '/collections/ub/points/vectors', vectors(3))).status).toBe(200);
    refusedWith(await send('PUT', '/collections/ub/points/vectors', vectors(4)), 'Bad request: Strict mode error: Limit exceeded 4 > 3 for "update limit". Help: Reduce the "update limit" parameter to or below 3.');
  });

  it('unindexed_filtering_retrieve and unindexed_filtering_update: an index for every tested field', async () => {
    await create('ix', { unindexed_filtering_retrieve: false, unindexed_filtering_update: false });
    expect((await send('PUT', '/collections/ix/points', { points: points(1, 3, { city: 'Berlin', n: 1 }) })).status).toBe(200);
    const byCity = { must: [{ key: 'city', match: { value: 'Berlin' } }] };
    const missing = 'Bad request: Strict mode error: Index required but not found for "city" of one of the following types: [keyword, uuid]. Help: Create an index for this key or use a different filter.';
    refusedWith(await send('POST', '/collections/ix/points/query', { query: [1, 0, 0], filter: byCity }), missing);
    refusedWith(await send('POST', '/collections/ix/points/count', { filter: byCity }), missing);
    refusedWith(await send('POST', '/collections/ix/points/delete', { filter: byCity }), missing);
    refusedWith(await send('POST', '/collections/ix/points/payload', { payload: { x: 1 }, filter: byCity }), missing);
    expect(await count('ix')).toBe(3);
    // Deleting by ids needs no index; an integer index does not serve a keyword match.
    expect((await send('PUT', '/collections/ix/index', { field_name: 'city', field_schema: 'integer' })).status).toBe(200);
    refusedWith(await send('POST', '/collections/ix/points/count', { filter: byCity }), missing);
    expect((await send('PUT', '/collections/ix/index', { field_name: 'city', field_schema: 'keyword' })).status).toBe(200);
    expect(((await send('POST', '/collections/ix/points/count', { filter: byCity })).body.result as { count: number }).count).toBe(3);
    // Inside nested filters and in must_not too; range needs a numeric index.
    refusedWith(await send('POST', '/collections/ix/points/count', { filter: { must_not: [{ key: 'n', range: { gte: 1 } }] } }), 'Bad request: Strict mode error: Index required but not found for "n" of one of the following types: [float, integer]. Help: Create an index for this key or use a different filter.');
    expect((await send('POST', '/collections/ix/points/delete', { filter: byCity })).status).toBe(200);
    expect(await count('ix')).toBe(0);
  });

  it('filter_max_conditions and condition_max_size', async () => {
    await create('fc', { filter_max_conditions: 2, condition_max_size: 3 });
    const cond = { key: 'a', match: { value: 1 } };
    expect((await send('POST', '/collections/fc/points/count', { filter: { must: [cond, cond] } })).status).toBe(200);
    refusedWith(await send('POST', '/collections/fc/points/count', { filter: { must: [cond], should: [{ must: [cond] }] } }), 'Bad request: Strict mode error: Filter condition limit reached (3 > 2). Help: Reduce the amount of conditions of your filter.');
    expect((await send('POST', '/collections/fc/points/count', { filter: { must: [{ key: 'a', match: { any: [1, 2, 3] } }] } })).status).toBe(200);
    refusedWith(await send('POST', '/collections/fc/points/count', { filter: { must: [{ key: 'a', match: { any: [1, 2, 3, 4] } }] } }), 'Bad request: Strict mode error: Condition size limit reached (4 > 3). Help: Reduce the size of your condition.');
  });

  it('max_points_count, max_collection_payload_size_bytes and max_collection_vector_size_bytes: at the limit, not past it', async () => {
    await create('mp', { max_points_count: 4 });
    expect((await send('PUT', '/collections/mp/points', { points: points(1, 4) })).status).toBe(200);
    refusedWith(await send('PUT', '/collections/mp/points', { points: points(5, 1) }), 'Bad request: Strict mode error: Limit exceeded 5 > 4 for "max_points_count". Help: Reduce the "max_points_count" parameter to or below 4.');
    // Replacing a point does not grow the count.
    expect((await send('PUT', '/collections/mp/points', { points: points(1, 2) })).status).toBe(200);
    expect(await count('mp')).toBe(4);

    // A vector of 3 float32s is 12 bytes: three points fill 36.
    await create('vb', { max_collection_vector_size_bytes: 36 });
    expect((await send('PUT', '/collections/vb/points', { points: points(1, 3) })).status).toBe(200);
    refusedWith(await send('PUT', '/collections/vb/points', { points: points(4, 1) }), 'Bad request: Strict mode error: Limit exceeded 48 > 36 for "max_collection_vector_size_bytes". Help: Reduce the "max_collection_vector_size_bytes" parameter to or below 36.');
    expect((await send('POST', '/collections/vb/points/delete', { points: [1] })).status).toBe(200);
    expect((await send('PUT', '/collections/vb/points', { points: points(4, 1) })).status).toBe(200);

    // A record of payload {"k":"xx"} is 1 + 10 bytes.
    await create('pb', { max_collection_payload_size_bytes: 22 });
    expect((await send('PUT', '/collections/pb/points', { points: points(1, 2, { k: 'xx' }) })).status).toBe(200);
    refusedWith(await send('POST', '/collections/pb/points/payload', { payload: { more: 1 }, points: [1] }), 'Bad request: Strict mode error: Limit exceeded 31 > 22 for "max_collection_payload_size_bytes". Help: Reduce the "max_collection_payload_size_bytes" parameter to or below 22.');
    // Shrinking is always allowed.
    expect((await send('POST', '/collections/pb/points/payload/clear', { points: [1] })).status).toBe(200);
    expect((await send('POST', '/collections/pb/points/payload', { payload: { k: 'x' }, points: [1] })).status).toBe(200);
  });

  it('max_payload_index_count', async () => {
    await create('pi', { max_payload_index_count: 2 });
    for (const f of ['a', 'b']) expect((await send('PUT', '/collections/pi/index', { field_name: f, field_schema: 'keyword' })).status).toBe(200);
    // Replacing an existing index does not count twice.
    expect((await send('PUT', '/collections/pi/index', { field_name: 'a', field_schema: 'integer' })).status).toBe(200);
    refusedWith(await send('PUT', '/collections/pi/index', { field_name: 'c', field_schema: 'keyword' }), 'Bad request: Strict mode error: Limit exceeded 3 > 2 for "max_payload_index_count". Help: Reduce the "max_payload_index_count" parameter to or below 2.');
    const schema = ((await send('GET', '/collections/pi')).body.result as { payload_schema: Record<string, unknown> }).payload_schema;
    expect(Object.keys(schema).sort()).toEqual(['a', 'b']);
  });

  it('read_rate_limit and write_rate_limit: a token bucket per minute, 429 with Retry-After, per collection in its tenant', async () => {
    await create('rl', { read_rate_limit: 3, write_rate_limit: 2 });
    await create('rl', { read_rate_limit: 3, write_rate_limit: 2 }, 'globex');
    for (let i = 0; i < 3; i++) expect((await send('POST', '/collections/rl/points/count', {})).status).toBe(200);
    const limited = await send('POST', '/collections/rl/points/count', {});
    expect(limited.status).toBe(429);
    expect(limited.body.status).toMatchObject({ code: 'ERR_RATE_LIMITED', error: expect.stringMatching(/^Rate limiting exceeded: Read rate limit exceeded: Operation requires 1 tokens but only 0\.0 were available\. Retry after 20s$/) });
    expect(limited.retryAfter).toBe('20');
    // The same collection name in another tenant has its own bucket.
    expect((await send('POST', '/collections/rl/points/count', {}, 'globex')).status).toBe(200);
    // A filter's conditions cost a token each (Qdrant's read cost).
    clock += 60_000;
    expect((await send('POST', '/collections/rl/points/count', { filter: { must: [{ key: 'a', match: { value: 1 } }, { key: 'b', match: { value: 1 } }] } })).status).toBe(200);
    expect((await send('POST', '/collections/rl/points/count', {})).status).toBe(429);

    // Writes cost their points; a write larger than the bucket can never pass.
    expect((await send('PUT', '/collections/rl/points', { points: points(1, 2) })).status).toBe(200);
    expect((await send('PUT', '/collections/rl/points', { points: points(3, 1) })).status).toBe(429);
    expect(await count('rl', 'globex')).toBe(0);
    clock += 30_000; // half a minute: one token back
    expect((await send('PUT', '/collections/rl/points', { points: points(3, 1) })).status).toBe(200);
    const tooBig = await send('PUT', '/collections/rl/points', { points: points(4, 3) });
    expect(tooBig.status).toBe(429);
    expect((tooBig.body.status as { error: string }).error).toContain('request larger than the rate limiter');
    clock += 60_000;
    expect(((await send('POST', '/collections/rl/points/count', {})).body.result as { count: number }).count).toBe(3);
  });
});
