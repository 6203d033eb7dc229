import type { FastifyInstance } from 'fastify';
import { canSeeCollection } from '../../auth/collection-access.js';
import { VERSION } from '../../version.js';
import {
  createCollection,
  deleteCollection,
  listCollections,
  openCollection,
  pointCount,
  requireCollection,
  saveCollection,
  updateCollection,
  type Collection,
} from '../../../layers/record/collections.js';
import { HNSW_DEFAULTS } from '../../../layers/record/collection-config.js';
import { parseIndexSchema, toQdrantSchema } from '../../../layers/record/index-schema.js';
import { buildPayloadIndex, deletePayloadIndex, indexEntryCount } from '../../../layers/record/indexes.js';
import { selectPoints } from '../../../layers/record/read.js';
import { removePoints } from '../../../layers/record/store.js';
import { indexedCount } from '../../../layers/vector/vector-index.js';
import { parsePayloadPath, valuesAt } from '../../../layers/record/payload-path.js';
import { fail, isPlainObject, objectOf } from '../../../layers/record/validate.js';
import type { AppDeps } from '../app.js';
import { authorizeQdrantTenant, callerAccess, inTenant } from '../qdrant/context.js';
import { ok, updated } from '../qdrant/respond.js';
import { parseShardKey } from '../qdrant/shapes.js';
import type { TenantTransaction } from '../../tenancy/scoped.js';
import type { CollectionGrant } from '../../auth/collection-access.js';

/**
 * Qdrant's collection routes: `GET /`, collections (create, list, info, exists, update, delete),
 * payload indexes and shard keys, in the tenant the request addresses.
 */

/** The Qdrant version Strata's API follows: the 1.18 client accepts 1.17 to 1.19 without a warning. */
export const QDRANT_API_VERSION = '1.18.0';

type C = { Params: { collection: string } };

/** Register the collection routes. */
export function registerQdrantCollectionRoutes(app: FastifyInstance, deps: AppDeps, nextOperationId: () => number): void {
  // Tenant authorization before any body is read, for every collection route.
  app.addHook('onRequest', async request => {
    if (request.url.startsWith('/collections')) authorizeQdrantTenant(deps, request);
  });

  app.get('/', async () => ({ title: 'strata - tenant-isolated vector store (Qdrant-compatible API)', version: QDRANT_API_VERSION, strata_version: VERSION }));

  app.get('/collections', async (request, reply) => {
    const names = await inTenant(deps, request, undefined, 'read', tx => listCollections(tx));
    const access = callerAccess(request);
    return ok(reply, { collections: names.filter(name => canSeeCollection(access, name)).map(name => ({ name })) });
  });

  app.put<C>('/collections/:collection', async (request, reply) => {
    const { collection } = request.params;
    await inTenant(deps, request, collection, 'manage', tx => createCollection(tx, collection, request.body));
    return ok(reply, true);
  });

  app.get<C>('/collections/:collection', async (request, reply) => {
    const { collection } = request.params;
    const info = await inTenant(deps, request, collection, 'read', async (tx, grant) => collectionInfo(tx, await requireCollection(tx, collection), grant));
    return ok(reply, info);
  });

  app.get<C>('/collections/:collection/exists', async (request, reply) => {
    const { collection } = request.params;
    const exists = await inTenant(deps, request, collection, 'read', async tx => (await openCollection(tx, collection)) !== undefined);
    return ok(reply, { exists });
  });

  app.patch<C>('/collections/:collection', async (request, reply) => {
    const { collection } = request.params;
    await inTenant(deps, request, collection, 'manage', tx => updateCollection(tx, collection, request.body));
    return ok(reply, true);
  });

  app.delete<C>('/collections/:collection', async (request, reply) => {
    const { collection } = request.params;
    return ok(reply, await inTenant(deps, request, collection, 'manage', tx => deleteCollection(tx, collection)));
  });

  app.put<C>('/collections/:collection/index', async (request, reply) => {
    const { collection } = request.params;
    const body = objectOf('ERR_INDEX_INVALID', '', request.body ?? {}, ['field_name', 'field_schema', 'field_type']);
    const field = body['field_name'];
    if (typeof field !== 'string') fail('ERR_INDEX_INVALID', 'field_name', 'is required');
    const rawSchema = body['field_schema'] ?? body['field_type'];
    if (rawSchema === undefined || rawSchema === null) fail('ERR_INDEX_INVALID', '', 'Bad request: Can\'t auto-detect field type, please specify `field_schema` in the request');
    const schema = parseIndexSchema(rawSchema);
    await buildPayloadIndex(fn => inTenant(deps, request, collection, 'index', tx => fn(tx)), collection, field, schema);
    return updated(reply, nextOperationId());
  });

  app.delete<{ Params: { collection: string; field: string } }>('/collections/:collection/index/:field', async (request, reply) => {
    const { collection, field } = request.params;
    await inTenant(deps, request, collection, 'index', async tx => deletePayloadIndex(tx, await requireCollection(tx, collection), field));
    return updated(reply, nextOperationId());
  });

  app.get<C>('/collections/:collection/shards', async (request, reply) => {
    const { collection } = request.params;
    const c = await inTenant(deps, request, collection, 'read', tx => requireCollection(tx, collection));
    return ok(reply, { shard_keys: c.shardKeys.map(key => ({ key })) });
  });

  app.put<C>('/collections/:collection/shards', async (request, reply) => {
    const { collection } = request.params;
    const body = objectOf('ERR_SHARD_KEY_INVALID', '', request.body ?? {}, ['shard_key', 'shards_number', 'replication_factor', 'placement', 'initial_state']);
    const key = parseShardKey(body['shard_key']);
    if (key === undefined) fail('ERR_SHARD_KEY_INVALID', 'shard_key', 'is required');
    await inTenant(deps, request, collection, 'manage', async tx => {
      const c = await requireCollection(tx, collection);
      if (c.config.sharding !== 'custom') fail('ERR_SHARD_KEY_INVALID', '', 'Bad request: Shard keys need a collection created with "sharding_method": "custom"');
      if (c.shardKeys.includes(key)) fail('ERR_SHARD_KEY_INVALID', '', `Bad request: Shard key ${JSON.stringify(key)} already exists`);
      saveCollection(tx, { ...c, shardKeys: [...c.shardKeys, key] });
    });
    return ok(reply, true);
  });

  app.post<C>('/collections/:collection/shards/delete', async (request, reply) => {
    const { collection } = request.params;
    const body = objectOf('ERR_SHARD_KEY_INVALID', '', request.body ?? {}, ['shard_key']);
    const key = parseShardKey(body['shard_key']);
    if (key === undefined) fail('ERR_SHARD_KEY_INVALID', 'shard_key', 'is required');
    await inTenant(deps, request, collection, 'manage', async tx => {
      const c = await requireCollection(tx, collection);
      if (!c.shardKeys.includes(key)) fail('ERR_SHARD_KEY_INVALID', '', `Bad request: Shard key ${JSON.stringify(key)} does not exist`);
      // The shard's points go with it, as in Qdrant.
      const doomed = [];
      for await (const p of selectPoints(tx, c, { shardKey: key })) doomed.push(p);
      await removePoints(tx, c, doomed);
      saveCollection(tx, { ...c, shardKeys: c.shardKeys.filter(k => k !== key) });
    });
    return ok(reply, true);
  });

}

async function indexedVectors(tx: TenantTransaction, c: Collection): Promise<number> {
  let n = 0;
  for (const name of Object.keys(c.config.vectors)) n += await indexedCount(tx, c, name);
  return n;
}

/** `GET /collections/{c}` in Qdrant's shape; a payload-scoped caller sees only its points. */
async function collectionInfo(tx: TenantTransaction, c: Collection, grant: CollectionGrant) {
  let points: number;
  const schema: Record<string, unknown> = {};
  if (grant.scope === undefined) {
    points = await pointCount(tx, c);
    for (const [field, s] of Object.entries(c.indexes)) schema[field] = { ...toQdrantSchema(s), points: await indexEntryCount(tx, c, field) };
  } else {
    points = 0;
    const perField = new Map(Object.keys(c.indexes).map(f => [f, 0]));
    const paths = new Map(Object.keys(c.indexes).map(f => [f, parsePayloadPath(f)]));
    for await (const p of selectPoints(tx, c, { scope: grant.scope })) {
      points++;
      for (const [f, path] of paths) if (valuesAt(p.record.payload, path).length > 0) perField.set(f, (perField.get(f) ?? 0) + 1);
    }
    for (const [field, s] of Object.entries(c.indexes)) schema[field] = { ...toQdrantSchema(s), points: perField.get(field) ?? 0 };
  }
  const vectors = c.config.named
    ? Object.fromEntries(Object.entries(c.config.vectors).map(([name, v]) => [name, { size: v.size, distance: v.distance, ...v.extra }]))
    : { size: c.config.vectors['']!.size, distance: c.config.vectors['']!.distance, ...c.config.vectors['']!.extra };
  const pass = c.config.passthrough;
  return {
    // Yellow while the indexer has points to link (they are searched exactly meanwhile), as Qdrant
    // reports optimizations in progress.
    status: (await tx.get(c.keys.pendingFlag, { snapshot: true })) === undefined ? 'green' : 'yellow',
    optimizer_status: 'ok',
    // Points linked into the vector index; the rest are searched exactly until the indexer links them.
    indexed_vectors_count: await indexedVectors(tx, c),
    points_count: points,
    segments_count: 1,
    config: {
      params: {
        vectors,
        shard_number: c.config.shardNumber,
        ...(c.config.sharding === 'custom' ? { sharding_method: 'custom' } : {}),
        replication_factor: isPlainObject(pass['params']) ? (pass['params']['replication_factor'] ?? 1) : (pass['replication_factor'] ?? 1),
        write_consistency_factor: pass['write_consistency_factor'] ?? 1,
        on_disk_payload: pass['on_disk_payload'] ?? true,
      },
      hnsw_config: { ...HNSW_DEFAULTS, ...c.config.hnsw },
      optimizer_config: {
        deleted_threshold: 0.2,
        vacuum_min_vector_number: 1000,
        default_segment_number: 0,
        max_segment_size: null,
        memmap_threshold: null,
        indexing_threshold: 10000,
        flush_interval_sec: 5,
        max_optimization_threads: null,
        ...(isPlainObject(pass['optimizers_config']) ? pass['optimizers_config'] : {}),
      },
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0, wal_retain_closed: 1, ...(isPlainObject(pass['wal_config']) ? pass['wal_config'] : {}) },
      quantization_config: pass['quantization_config'] ?? null,
      strict_mode_config: { enabled: false, ...c.config.strict },
    },
    payload_schema: schema,
  };
}
