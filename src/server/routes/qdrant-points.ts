import type { FastifyInstance } from 'fastify';
import type { CollectionGrant } from '../../auth/collection-access.js';
import { StrataError } from '../../errors.js';
import type { TenantTransaction } from '../../tenancy/scoped.js';
import type { Collection, ShardKey } from '../../../layers/record/collections.js';
import { checkPayloadDepth } from '../../../layers/record/payload-edit.js';
import { parseUpsertPoints, parseVectors } from '../../../layers/record/parse-points.js';
import { parsePointId, type PointId } from '../../../layers/record/point-id.js';
import {
  deletePoints,
  deleteVectors,
  reachableByIds,
  requireReachable,
  updatePayloads,
  updateVectors,
  upsertPoints,
  type PayloadChange,
  type Reachable,
} from '../../../layers/record/points-write.js';
import { readVectors, selectPoints } from '../../../layers/record/read.js';
import { fail, isPlainObject, objectOf } from '../../../layers/record/validate.js';
import type { AppDeps } from '../app.js';
import { inCollection, type PointsOp } from '../qdrant/context.js';
import { checkUpdateFilter, readCost } from '../../../layers/record/strict-checks.js';
import { checkLimit } from '../../../layers/record/strict-mode.js';
import { ok, updated } from '../qdrant/respond.js';
import {
  parseIds,
  parseSelector,
  parseShardKey,
  parseWithPayload,
  parseWithVector,
  selectPayload,
  selectVectors,
  wantsVectors,
  type PayloadSelection,
  type PointSelector,
  type VectorSelection,
} from '../qdrant/shapes.js';

/**
 * Qdrant's point routes: upsert, retrieve, delete, payload and vector updates. Every one passes the
 * caller's payload scope to the record layer, which applies it to reads and writes alike.
 */

type C = { Params: { collection: string }; Querystring: Record<string, string> };
type Body = Record<string, unknown>;

/** A record in Qdrant's shape. */
export async function renderRecord(tx: TenantTransaction, c: Collection, id: PointId, payload: Record<string, unknown>, shardKey: ShardKey | undefined, withPayload: PayloadSelection, withVector: VectorSelection) {
  const shownPayload = selectPayload(payload, withPayload);
  const vector = wantsVectors(withVector) ? selectVectors(c, await readVectors(tx, c, id), withVector) : undefined;
  return {
    id,
    ...(shownPayload === undefined ? {} : { payload: shownPayload }),
    ...(vector === undefined ? {} : { vector }),
    ...(shardKey === undefined ? {} : { shard_key: shardKey }),
  };
}

/** The points a selector reaches for a write. */
async function reach(tx: TenantTransaction, c: Collection, selector: PointSelector, grant: CollectionGrant, shardKey: ShardKey | undefined): Promise<Reachable[]> {
  if ('ids' in selector) return reachableByIds(tx, c, selector.ids, grant.scope, shardKey);
  const out: Reachable[] = [];
  for await (const p of selectPoints(tx, c, { filter: selector.filter, scope: grant.scope, shardKey })) out.push({ id: p.id, record: p.record });
  return out;
}

/** A read of points by id: one token of the read rate. */
const READ_BY_ID: PointsOp = { kind: 'read', cost: 1 };

/** A write that selects points (by ids, or by a filter that strict mode may want indexed). */
function selectingWrite(selector: PointSelector): PointsOp {
  return 'ids' in selector
    ? { kind: 'write', cost: Math.max(1, selector.ids.length) }
    : // Its points are unknown until it runs: a filter costs what a read by it would.
      { kind: 'write', cost: readCost(selector.filter), verify: (strict, c) => checkUpdateFilter(strict, c.indexes, selector.filter) };
}

/** How many points an upsert body carries (a list, or a batch's ids). */
function upsertSize(b: Body): number {
  if (Array.isArray(b['points'])) return b['points'].length;
  const batch = b['batch'];
  return isPlainObject(batch) && Array.isArray(batch['ids']) ? batch['ids'].length : 0;
}

/** Register the point routes. */
export function registerQdrantPointRoutes(app: FastifyInstance, deps: AppDeps, nextOperationId: () => number): void {
  app.put<C>('/collections/:collection/points', async (request, reply) => {
    const { collection } = request.params;
    const b = objectOf('ERR_QUERY_INVALID', '', request.body, ['points', 'batch', 'shard_key', 'update_filter', 'update_mode']);
    if (b['update_filter'] !== undefined || (b['update_mode'] !== undefined && b['update_mode'] !== 'upsert')) {
      fail('ERR_FEATURE_UNSUPPORTED', '', 'update_filter and update_mode are not supported by Strata yet');
    }
    if (b['points'] === undefined && b['batch'] === undefined) fail('ERR_QUERY_INVALID', '', 'Format error in JSON body: Invalid PointInsertOperations format');
    const shardKey = parseShardKey(b['shard_key']);
    const n = upsertSize(b);
    const op: PointsOp = { kind: 'write', cost: Math.max(1, n), verify: strict => checkLimit(n, strict.upsert_max_batchsize, 'upsert limit') };
    await inCollection(deps, request, collection, 'write', op, ({ tx, c, grant, limits }) => upsertPoints(tx, c, parseUpsertPoints(c.config, b), { scope: grant.scope, shardKey, limits }));
    return updated(reply, nextOperationId());
  });

  app.post<C>('/collections/:collection/points', async (request, reply) => {
    const { collection } = request.params;
    const b = objectOf('ERR_QUERY_INVALID', '', request.body, ['ids', 'with_payload', 'with_vector', 'with_vectors', 'shard_key']);
    if (!Array.isArray(b['ids'])) fail('ERR_QUERY_INVALID', 'ids', 'must be a list of point ids');
    const ids = parseIds(b['ids']);
    const withPayload = parseWithPayload(b['with_payload'], false);
    const withVector = parseWithVector(b['with_vector'] ?? b['with_vectors'], false);
    const shardKey = parseShardKey(b['shard_key']);
    const records = await inCollection(deps, request, collection, 'read', READ_BY_ID, async ({ tx, c, grant }) => {
      const found = await reachableByIds(tx, c, ids, grant.scope, shardKey);
      return Promise.all(found.map(p => renderRecord(tx, c, p.id, p.record.payload, p.record.shardKey, withPayload, withVector)));
    });
    return ok(reply, records);
  });

  app.get<{ Params: { collection: string; id: string } }>('/collections/:collection/points/:id', async (request, reply) => {
    const { collection, id: rawId } = request.params;
    const id = /^\d+$/.test(rawId) ? parsePointId(Number(rawId)) : parsePointId(rawId);
    const record = await inCollection(deps, request, collection, 'read', READ_BY_ID, async ({ tx, c, grant }) => {
      const [found] = await reachableByIds(tx, c, [id], grant.scope);
      if (found === undefined) throw new StrataError('ERR_POINT_NOT_FOUND', `Not found: Point with id ${String(id)} does not exists!`, { details: { id } });
      return renderRecord(tx, c, found.id, found.record.payload, found.record.shardKey, true, true);
    });
    return ok(reply, record);
  });

  app.post<C>('/collections/:collection/points/delete', async (request, reply) => {
    const { collection } = request.params;
    const b = objectOf('ERR_QUERY_INVALID', '', request.body, ['points', 'filter', 'shard_key']);
    const selector = parseSelector(b);
    const shardKey = parseShardKey(b['shard_key']);
    await inCollection(deps, request, collection, 'write', selectingWrite(selector), async ({ tx, c, grant }) => deletePoints(tx, c, await reach(tx, c, selector, grant, shardKey)));
    return updated(reply, nextOperationId());
  });

  const payloadRoute = (method: 'POST' | 'PUT', url: string, kind: PayloadChange['kind']) =>
    app.route<C>({
      method,
      url,
      handler: async (request, reply) => {
        const { collection } = request.params;
        const b = objectOf('ERR_QUERY_INVALID', '', request.body, ['payload', 'points', 'filter', 'shard_key', 'key', 'keys']);
        if (b['key'] !== undefined && b['key'] !== null) fail('ERR_FEATURE_UNSUPPORTED', 'key', 'setting a payload at a nested key is not supported by Strata yet');
        const change = payloadChange(kind, b);
        const selector = parseSelector(b);
        const shardKey = parseShardKey(b['shard_key']);
        await inCollection(deps, request, collection, 'write', selectingWrite(selector), async ({ tx, c, grant, limits }) => {
          const points = 'ids' in selector && (kind === 'set' || kind === 'overwrite') ? await requireReachable(tx, c, selector.ids, grant.scope, shardKey) : await reach(tx, c, selector, grant, shardKey);
          await updatePayloads(tx, c, points, change, grant.scope, limits);
        });
        return updated(reply, nextOperationId());
      },
    });
  payloadRoute('POST', '/collections/:collection/points/payload', 'set');
  payloadRoute('PUT', '/collections/:collection/points/payload', 'overwrite');
  payloadRoute('POST', '/collections/:collection/points/payload/delete', 'delete');
  payloadRoute('POST', '/collections/:collection/points/payload/clear', 'clear');

  app.put<C>('/collections/:collection/points/vectors', async (request, reply) => {
    const { collection } = request.params;
    const b = objectOf('ERR_QUERY_INVALID', '', request.body, ['points', 'shard_key', 'update_filter']);
    if (b['update_filter'] !== undefined) fail('ERR_FEATURE_UNSUPPORTED', 'update_filter', 'is not supported by Strata yet');
    const list = b['points'];
    if (!Array.isArray(list) || list.length === 0) fail('ERR_QUERY_INVALID', 'points', 'must specify points to update');
    const shardKey = parseShardKey(b['shard_key']);
    const op: PointsOp = { kind: 'write', cost: list.length, verify: strict => checkLimit(list.length, strict.upsert_max_batchsize, 'update limit') };
    await inCollection(deps, request, collection, 'write', op, async ({ tx, c, grant, limits }) => {
      const updates = list.map((raw, i) => {
        const p = objectOf('ERR_QUERY_INVALID', `points[${i}]`, raw, ['id', 'vector', 'vectors']);
        return { id: parsePointId(p['id']), vectors: parseVectors(c.config, p['vector'] ?? p['vectors'], `points[${i}].vector`, false) };
      });
      await requireReachable(tx, c, updates.map(u => u.id), grant.scope, shardKey);
      await updateVectors(tx, c, updates, limits);
    });
    return updated(reply, nextOperationId());
  });

  app.post<C>('/collections/:collection/points/vectors/delete', async (request, reply) => {
    const { collection } = request.params;
    const b = objectOf('ERR_QUERY_INVALID', '', request.body, ['points', 'filter', 'vector', 'vectors', 'shard_key']);
    const names = b['vector'] ?? b['vectors'];
    if (!Array.isArray(names) || names.length === 0 || !names.every(n => typeof n === 'string')) fail('ERR_QUERY_INVALID', 'vector', 'must list the vector names to delete');
    const selector = parseSelector(b);
    const shardKey = parseShardKey(b['shard_key']);
    await inCollection(deps, request, collection, 'write', selectingWrite(selector), async ({ tx, c, grant }) => deleteVectors(tx, c, await reach(tx, c, selector, grant, shardKey), names as string[]));
    return updated(reply, nextOperationId());
  });

  app.post<C>('/collections/:collection/points/batch', async () => {
    throw new StrataError('ERR_FEATURE_UNSUPPORTED', 'the batch update route is not supported by Strata yet; send the operations one by one');
  });
}

function payloadChange(kind: PayloadChange['kind'], b: Body): PayloadChange {
  switch (kind) {
    case 'set':
    case 'overwrite': {
      const payload = b['payload'];
      if (!isPlainObject(payload)) fail('ERR_PAYLOAD_INVALID', 'payload', 'must be a JSON object');
      checkPayloadDepth(payload, 'payload');
      return { kind, payload };
    }
    case 'delete': {
      const keys = b['keys'];
      if (!Array.isArray(keys) || !keys.every(k => typeof k === 'string')) fail('ERR_QUERY_INVALID', 'keys', 'must be a list of payload keys');
      return { kind, keys: keys as string[] };
    }
    case 'clear':
      return { kind };
  }
}

