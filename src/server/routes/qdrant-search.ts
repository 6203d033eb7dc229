import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CollectionGrant } from '../../auth/collection-access.js';
import { StrataError } from '../../errors.js';
import type { TenantTransaction } from '../../tenancy/scoped.js';
import type { Collection, ShardKey } from '../../../layers/record/collections.js';
import { checkRead, readCost } from '../../../layers/record/strict-checks.js';
import { checkLimit } from '../../../layers/record/strict-mode.js';
import type { Filter } from '../../../layers/record/filter/types.js';
import { parsePointId, type PointId } from '../../../layers/record/point-id.js';
import { reachableByIds } from '../../../layers/record/points-write.js';
import { countSelected, readVector, selectPoints } from '../../../layers/record/read.js';
import { fail, isPlainObject, objectOf, optionalNumber } from '../../../layers/record/validate.js';
import { exactSearch } from '../../../layers/vector/exact.js';
import type { VectorCache } from '../../../layers/vector/cache.js';
import type { AppDeps } from '../app.js';
import { inCollection, type PointsOp } from '../qdrant/context.js';
import { ok } from '../qdrant/respond.js';
import {
  intOption,
  parseOptionalFilter,
  parseShardKey,
  parseWithPayload,
  parseWithVector,
  type PayloadSelection,
  type VectorSelection,
} from '../qdrant/shapes.js';
import { renderRecord } from './qdrant-points.js';

/**
 * Qdrant's read routes: `query` (and batch), legacy `search` (and batch), `scroll` and `count`.
 * Search is exact (every candidate scored); the vector index layer plugs in behind `exactSearch`.
 */

type C = { Params: { collection: string } };

const MAX_LIMIT = 10_000;
const MAX_BATCH = 100;
const QUERY_FIELDS = ['query', 'using', 'prefetch', 'filter', 'params', 'score_threshold', 'limit', 'offset', 'with_payload', 'with_vector', 'with_vectors', 'lookup_from', 'shard_key'];
const SEARCH_FIELDS = ['vector', 'filter', 'params', 'limit', 'top', 'offset', 'with_payload', 'with_vector', 'with_vectors', 'score_threshold', 'shard_key'];

/** A nearest-neighbour request, whatever route it came by. */
interface NearestSpec {
  readonly vector?: number[];
  /** Query by a stored point's vector (that point is left out of the results). */
  readonly pointId?: PointId;
  readonly using: string | undefined;
  readonly filter: Filter | undefined;
  readonly limit: number;
  readonly offset: number;
  readonly scoreThreshold: number | undefined;
  readonly withPayload: PayloadSelection;
  readonly withVector: VectorSelection;
  readonly shardKey: ShardKey | undefined;
  readonly exact?: boolean;
  readonly hnswEf?: number;
}

/** `params`: `hnsw_ef` and `exact` are honoured; quantization, indexed_only and acorn accepted. */
function parseParams(value: unknown): { exact?: boolean; hnswEf?: number } {
  if (value === undefined || value === null) return {};
  const p = objectOf('ERR_QUERY_INVALID', 'params', value, ['hnsw_ef', 'exact', 'quantization', 'indexed_only', 'acorn']);
  const hnswEf = p['hnsw_ef'] === undefined || p['hnsw_ef'] === null ? undefined : intOption(p['hnsw_ef'], 'params.hnsw_ef', 1, 100_000, 1);
  if (p['exact'] !== undefined && p['exact'] !== null && typeof p['exact'] !== 'boolean') fail('ERR_QUERY_INVALID', 'params.exact', 'must be true or false');
  return { ...(p['exact'] === true ? { exact: true } : {}), ...(hnswEf === undefined ? {} : { hnswEf }) };
}

function numberList(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || !value.every(x => typeof x === 'number')) fail('ERR_VECTOR_INVALID', where, 'must be an array of numbers');
  return value as number[];
}

/** A query without `query`: points in id order. */
interface ByIdSpec {
  readonly scroll: true;
  readonly filter: Filter | undefined;
  readonly limit: number;
  readonly offset: number;
  readonly withPayload: PayloadSelection;
  readonly withVector: VectorSelection;
  readonly shardKey: ShardKey | undefined;
}

/** A `query` body: nearest by vector or by point id; no query means points by id (scroll). */
function parseQuery(raw: unknown): NearestSpec | ByIdSpec {
  const b = objectOf('ERR_QUERY_INVALID', '', raw ?? {}, QUERY_FIELDS);
  if (b['prefetch'] !== undefined && b['prefetch'] !== null) fail('ERR_FEATURE_UNSUPPORTED', 'prefetch', 'prefetch (hybrid queries) is not supported by Strata yet');
  if (b['lookup_from'] !== undefined && b['lookup_from'] !== null) fail('ERR_FEATURE_UNSUPPORTED', 'lookup_from', 'lookup_from is not supported by Strata yet');
  const searchParams = parseParams(b['params']);
  const common = {
    filter: parseOptionalFilter(b['filter']),
    limit: intOption(b['limit'], 'limit', 1, MAX_LIMIT, 10),
    offset: intOption(b['offset'], 'offset', 0, MAX_LIMIT, 0),
    withPayload: parseWithPayload(b['with_payload'], false),
    withVector: parseWithVector(b['with_vector'] ?? b['with_vectors'], false),
    shardKey: parseShardKey(b['shard_key']),
  };
  let q = b['query'];
  if (q === undefined || q === null) return { scroll: true, ...common };
  if (isPlainObject(q) && 'nearest' in q) {
    if (Object.keys(q).some(k => k !== 'nearest')) fail('ERR_FEATURE_UNSUPPORTED', 'query', 'only {nearest} queries are supported by Strata yet (no mmr)');
    q = q['nearest'];
  }
  const nearest = { using: typeof b['using'] === 'string' ? b['using'] : undefined, scoreThreshold: optionalNumber('ERR_QUERY_INVALID', 'score_threshold', b['score_threshold']), ...common, ...searchParams };
  if (b['using'] !== undefined && b['using'] !== null && typeof b['using'] !== 'string') fail('ERR_QUERY_INVALID', 'using', 'must be a vector name');
  if (Array.isArray(q)) return { vector: numberList(q, 'query'), ...nearest };
  if (typeof q === 'number' || typeof q === 'string') return { pointId: parsePointId(q), ...nearest };
  return fail('ERR_FEATURE_UNSUPPORTED', 'query', 'Strata answers nearest-neighbour queries (a vector or a point id); recommend, discover, context, order_by, fusion, formula and sample are not supported yet');
}

/** A legacy `search` body. */
function parseSearch(raw: unknown): NearestSpec {
  const b = objectOf('ERR_QUERY_INVALID', '', raw ?? {}, SEARCH_FIELDS);
  const searchParams = parseParams(b['params']);
  let using: string | undefined;
  let vector: number[];
  const v = b['vector'];
  if (isPlainObject(v)) {
    if (typeof v['name'] !== 'string') fail('ERR_QUERY_INVALID', 'vector.name', 'must be a vector name');
    if (isPlainObject(v['vector'])) fail('ERR_FEATURE_UNSUPPORTED', 'vector', 'sparse vectors are not supported by Strata yet');
    using = v['name'];
    vector = numberList(v['vector'], 'vector.vector');
  } else {
    vector = numberList(v, 'vector');
  }
  const limit = b['limit'] ?? b['top'];
  if (limit === undefined || limit === null) fail('ERR_QUERY_INVALID', 'limit', 'is required');
  return {
    vector,
    using,
    filter: parseOptionalFilter(b['filter']),
    limit: intOption(limit, 'limit', 1, MAX_LIMIT, 10),
    offset: intOption(b['offset'], 'offset', 0, MAX_LIMIT, 0),
    scoreThreshold: optionalNumber('ERR_QUERY_INVALID', 'score_threshold', b['score_threshold']),
    withPayload: parseWithPayload(b['with_payload'], false),
    withVector: parseWithVector(b['with_vector'] ?? b['with_vectors'], false),
    shardKey: parseShardKey(b['shard_key']),
    ...searchParams,
  };
}

/** Scored points for a nearest-neighbour request. */
async function nearest(tx: TenantTransaction, c: Collection, spec: NearestSpec, grant: CollectionGrant, cache: VectorCache | undefined) {
  let vector = spec.vector;
  let exclude: Set<PointId> | undefined;
  if (spec.pointId !== undefined) {
    // The reference point must be visible to the caller too: its vector is data.
    const [ref] = await reachableByIds(tx, c, [spec.pointId], grant.scope);
    const v = ref === undefined ? undefined : await readVector(tx, c, spec.using ?? '', spec.pointId);
    if (v === undefined) throw new StrataError('ERR_POINT_NOT_FOUND', `Not found: No point with id ${String(spec.pointId)} found`, { details: { id: spec.pointId } });
    vector = Array.from(v);
    exclude = new Set([spec.pointId]);
  }
  const hits = await exactSearch(tx, c, {
    vector: Float32Array.from(vector ?? []),
    using: spec.using,
    filter: spec.filter,
    scope: grant.scope,
    shardKey: spec.shardKey,
    limit: spec.limit,
    offset: spec.offset,
    scoreThreshold: spec.scoreThreshold,
    exclude,
    exact: spec.exact,
    hnswEf: spec.hnswEf,
    cache,
  });
  const found = await reachableByIds(tx, c, hits.map(h => h.id), undefined);
  const records = new Map(found.map(p => [p.id, p.record]));
  return Promise.all(
    hits.map(async hit => {
      const record = records.get(hit.id);
      const rendered = await renderRecord(tx, c, hit.id, record?.payload ?? {}, record?.shardKey, spec.withPayload, spec.withVector);
      return { id: hit.id, version: 0, score: Math.fround(hit.score), ...withoutId(rendered) };
    }),
  );
}

function withoutId<T extends { id: unknown }>(r: T): Omit<T, 'id'> {
  const { id: _, ...rest } = r;
  return rest;
}

/** Points in id order (a query without `query`), each scored 1. */
async function byId(tx: TenantTransaction, c: Collection, spec: { filter: Filter | undefined; limit: number; offset: number; withPayload: PayloadSelection; withVector: VectorSelection; shardKey: ShardKey | undefined }, grant: CollectionGrant) {
  const out = [];
  let skipped = 0;
  for await (const p of selectPoints(tx, c, { filter: spec.filter, scope: grant.scope, shardKey: spec.shardKey })) {
    if (skipped++ < spec.offset) continue;
    out.push({ version: 0, score: 1, ...(await renderRecord(tx, c, p.id, p.record.payload, p.record.shardKey, spec.withPayload, spec.withVector)) });
    if (out.length === spec.limit) break;
  }
  return out;
}

async function runQuery(tx: TenantTransaction, c: Collection, spec: NearestSpec | ByIdSpec, grant: CollectionGrant, cache: VectorCache | undefined) {
  return { points: 'scroll' in spec ? await byId(tx, c, spec, grant) : await nearest(tx, c, spec, grant, cache) };
}

/**
 * A read's limits: its cost against the read rate, and strict mode's checks of it (`batch`: the
 * size of the batch it came in, checked against `search_max_batchsize`).
 */
function readOp(spec: { filter: Filter | undefined; limit?: number; hnswEf?: number; exact?: boolean }, batch?: number): PointsOp {
  return {
    kind: 'read',
    cost: readCost(spec.filter),
    verify: (strict, c) => {
      if (batch !== undefined) checkLimit(batch, strict.search_max_batchsize, 'search batch size');
      checkRead(strict, c.indexes, spec);
    },
  };
}

function batchOf(raw: unknown): unknown[] {
  const b = objectOf('ERR_QUERY_INVALID', '', raw, ['searches']);
  const list = b['searches'];
  if (!Array.isArray(list)) fail('ERR_QUERY_INVALID', 'searches', 'must be a list');
  if (list.length > MAX_BATCH) fail('ERR_QUERY_INVALID', 'searches', `at most ${MAX_BATCH} per batch`);
  return list;
}

/** Register the read routes. */
export function registerQdrantSearchRoutes(app: FastifyInstance, deps: AppDeps): void {
  const read = <T>(request: FastifyRequest<C>, reply: FastifyReply, op: PointsOp, fn: (tx: TenantTransaction, c: Collection, grant: CollectionGrant) => Promise<T>) =>
    inCollection(deps, request, request.params.collection, 'read', op, ({ tx, c, grant }) => fn(tx, c, grant)).then(r => ok(reply, r));

  app.post<C>('/collections/:collection/points/query', (request, reply) => {
    const spec = parseQuery(request.body);
    return read(request, reply, readOp(spec), (tx, c, g) => runQuery(tx, c, spec, g, deps.vectorCache));
  });

  // Each query of a batch runs in a transaction of its own: together they could outlast one
  // transaction's five seconds on a large collection.
  const each = async <S extends { filter: Filter | undefined }, T>(request: FastifyRequest<C>, specs: readonly S[], fn: (tx: TenantTransaction, c: Collection, grant: CollectionGrant, spec: S) => Promise<T>) => {
    const out: T[] = [];
    for (const spec of specs) {
      out.push(await inCollection(deps, request, request.params.collection, 'read', readOp(spec, specs.length), ({ tx, c, grant }) => fn(tx, c, grant, spec)));
    }
    return out;
  };

  app.post<C>('/collections/:collection/points/query/batch', async (request, reply) => {
    const specs = batchOf(request.body).map(parseQuery);
    return ok(reply, await each(request, specs, (tx, c, g, spec) => runQuery(tx, c, spec, g, deps.vectorCache)));
  });

  app.post<C>('/collections/:collection/points/search', (request, reply) => {
    const spec = parseSearch(request.body);
    return read(request, reply, readOp(spec), (tx, c, g) => nearest(tx, c, spec, g, deps.vectorCache));
  });

  app.post<C>('/collections/:collection/points/search/batch', async (request, reply) => {
    const specs = batchOf(request.body).map(parseSearch);
    return ok(reply, await each(request, specs, (tx, c, g, spec) => nearest(tx, c, spec, g, deps.vectorCache)));
  });

  app.post<C>('/collections/:collection/points/scroll', (request, reply) => {
    const b = objectOf('ERR_QUERY_INVALID', '', request.body ?? {}, ['offset', 'limit', 'filter', 'with_payload', 'with_vector', 'with_vectors', 'order_by', 'shard_key']);
    if (b['order_by'] !== undefined && b['order_by'] !== null) fail('ERR_FEATURE_UNSUPPORTED', 'order_by', 'order_by is not supported by Strata yet');
    const from = b['offset'] === undefined || b['offset'] === null ? undefined : parsePointId(b['offset']);
    const limit = intOption(b['limit'], 'limit', 1, MAX_LIMIT, 10);
    const filter = parseOptionalFilter(b['filter']);
    const withPayload = parseWithPayload(b['with_payload'], true);
    const withVector = parseWithVector(b['with_vector'] ?? b['with_vectors'], false);
    const shardKey = parseShardKey(b['shard_key']);
    return read(request, reply, readOp({ filter, limit }), async (tx, c, grant) => {
      const points = [];
      let next: PointId | null = null;
      for await (const p of selectPoints(tx, c, { filter, scope: grant.scope, shardKey, from })) {
        if (points.length === limit) {
          next = p.id;
          break;
        }
        points.push(await renderRecord(tx, c, p.id, p.record.payload, p.record.shardKey, withPayload, withVector));
      }
      return { points, next_page_offset: next };
    });
  });

  app.post<C>('/collections/:collection/points/count', (request, reply) => {
    const b = objectOf('ERR_QUERY_INVALID', '', request.body ?? {}, ['filter', 'exact', 'shard_key']);
    const filter = parseOptionalFilter(b['filter']);
    const shardKey = parseShardKey(b['shard_key']);
    return read(request, reply, readOp({ filter }), async (tx, c, grant) => ({ count: await countSelected(tx, c, { filter, scope: grant.scope, shardKey }) }));
  });

  for (const route of ['recommend', 'recommend/batch', 'discover', 'discover/batch', 'search/groups', 'query/groups', 'recommend/groups', 'search/matrix/pairs', 'search/matrix/offsets']) {
    app.post(`/collections/:collection/points/${route}`, async () => {
      throw new StrataError('ERR_FEATURE_UNSUPPORTED', `${route} is not supported by Strata yet; use query with a vector or a point id`);
    });
  }
  app.post('/collections/:collection/facet', async () => {
    throw new StrataError('ERR_FEATURE_UNSUPPORTED', 'facet is not supported by Strata yet');
  });
}
