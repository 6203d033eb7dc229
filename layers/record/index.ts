/**
 * The record layer's public face: collections of points (id, vectors, JSON payload) with payload
 * indexes and Qdrant's filters, in any transaction (a tenant's, in Strata). Every function takes the
 * transaction first, so several compose into one atomic unit.
 *
 * @example
 * await db.transact(async tx => {
 *   const t = new TenantTransaction(tx, tenant.prefix);
 *   const c = await createCollection(t, 'docs', { vectors: { size: 3, distance: 'Dot' } });
 *   await upsertPoints(t, c, parseUpsertPoints(c.config, { points: [{ id: 1, vector: [1, 0, 0], payload: { city: 'Berlin' } }] }));
 * });
 * @packageDocumentation
 */
export { createCollection, deleteCollection, listCollections, openCollection, pointCount, requireCollection, updateCollection, type Collection, type ShardKey } from './collections.js';
export type { CollectionConfig, HnswConfig, VectorParams } from './collection-config.js';
export { parseIndexSchema, type IndexSchema, type IndexType } from './index-schema.js';
export { createPayloadIndex, deletePayloadIndex } from './indexes.js';
export { parseUpsertPoints, parseVectors, type PointInput } from './parse-points.js';
export { parsePointId, type PointId } from './point-id.js';
export { deletePoints, reachableByIds, requireReachable, updatePayloads, updateVectors, upsertPoints, type PayloadChange, type Reachable, type WriteOptions } from './points-write.js';
export { countSelected, readVector, readVectors, selectPoints, type SelectedPoint, type SelectOptions } from './read.js';
export { parseFilter } from './filter/parse.js';
export type { Filter } from './filter/types.js';
export type { PayloadScope } from './scope.js';
