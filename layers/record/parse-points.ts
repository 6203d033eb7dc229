import { normalize } from '../vector/distance.js';
import { vectorParams, type CollectionConfig } from './collection-config.js';
import { checkPayloadDepth } from './payload-edit.js';
import { parsePointId, type PointId } from './point-id.js';
import { fail, isPlainObject, objectOf } from './validate.js';

/**
 * Points as upsert bodies give them (Qdrant's list form `{points: [...]}` and batch form
 * `{batch: {ids, vectors, payloads}}`), checked against the collection: every vector has the
 * collection's size for its name and finite values; Cosine vectors are normalized here, once, as
 * Qdrant does at upsert.
 */

/** A point to write. */
export interface PointInput {
  readonly id: PointId;
  /** Vectors by name ("" for a single-vector collection). */
  readonly vectors: ReadonlyMap<string, Float32Array>;
  readonly payload: Record<string, unknown>;
}

/** The most points one upsert takes. */
export const MAX_POINTS_PER_WRITE = 10_000;

/** A vector value as a client sent it: its Float32 form, checked, normalized for Cosine. */
export function parseVectorValue(config: CollectionConfig, name: string, value: unknown, where: string): Float32Array {
  const params = vectorParams(config, name);
  if (params === undefined) fail('ERR_VECTOR_INVALID', where, `Wrong input: Not existing vector name error: ${name}`);
  if (!Array.isArray(value)) {
    if (isPlainObject(value) && ('indices' in value || 'values' in value)) fail('ERR_FEATURE_UNSUPPORTED', where, 'sparse vectors are not supported by Strata yet');
    if (isPlainObject(value)) fail('ERR_FEATURE_UNSUPPORTED', where, 'inference objects (text, image, document) are not supported by Strata');
    fail('ERR_VECTOR_INVALID', where, 'must be an array of numbers');
  }
  if (value.length > 0 && Array.isArray(value[0])) fail('ERR_FEATURE_UNSUPPORTED', where, 'multivectors are not supported by Strata yet');
  if (value.length !== params.size) {
    fail('ERR_VECTOR_INVALID', where, `Wrong input: Vector dimension error: expected dim: ${params.size}, got ${value.length}`);
  }
  const v = new Float32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const x = value[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || !Number.isFinite(Math.fround(x))) fail('ERR_VECTOR_INVALID', `${where}[${i}]`, 'must be a finite number (float32)');
    v[i] = x;
  }
  return params.distance === 'Cosine' ? normalize(v) : v;
}

/** A point's vectors: an array (the unnamed vector) or an object of named vectors. */
export function parseVectors(config: CollectionConfig, value: unknown, where: string, requireAll: boolean): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  if (Array.isArray(value)) {
    if (config.named) fail('ERR_VECTOR_INVALID', where, `the collection has named vectors (${Object.keys(config.vectors).join(', ')}): give an object of them`);
    out.set('', parseVectorValue(config, '', value, where));
  } else if (isPlainObject(value)) {
    for (const [name, v] of Object.entries(value)) {
      if (vectorParams(config, name) === undefined) fail('ERR_VECTOR_INVALID', `${where}.${name}`, `Wrong input: Not existing vector name error: ${name}`);
      out.set(name, parseVectorValue(config, name, v, `${where}.${name}`));
    }
  } else if (value !== undefined || requireAll) {
    fail('ERR_VECTOR_INVALID', where, 'must be an array of numbers or an object of named vectors');
  }
  if (requireAll && !config.named && !out.has('')) fail('ERR_VECTOR_INVALID', where, 'is required');
  return out;
}

function parsePayload(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) fail('ERR_PAYLOAD_INVALID', where, 'must be a JSON object');
  checkPayloadDepth(value, where);
  return value;
}

/** The points of an upsert body, in order (a later point with the same id replaces an earlier one). */
export function parseUpsertPoints(config: CollectionConfig, body: Record<string, unknown>): PointInput[] {
  const points: PointInput[] = [];
  if (body['points'] !== undefined) {
    const list = body['points'];
    if (!Array.isArray(list)) fail('ERR_QUERY_INVALID', 'points', 'must be a list');
    checkCount(list.length);
    for (const [i, raw] of list.entries()) {
      const p = objectOf('ERR_QUERY_INVALID', `points[${i}]`, raw, ['id', 'vector', 'payload']);
      points.push({ id: parsePointId(p['id']), vectors: parseVectors(config, p['vector'], `points[${i}].vector`, true), payload: parsePayload(p['payload'], `points[${i}].payload`) });
    }
    return points;
  }
  const batch = objectOf('ERR_QUERY_INVALID', 'batch', body['batch'], ['ids', 'vectors', 'payloads']);
  const ids = batch['ids'];
  if (!Array.isArray(ids)) fail('ERR_QUERY_INVALID', 'batch.ids', 'must be a list');
  checkCount(ids.length);
  const vectors = batch['vectors'];
  const payloads = batch['payloads'];
  if (payloads !== undefined && payloads !== null && (!Array.isArray(payloads) || payloads.length !== ids.length)) {
    fail('ERR_QUERY_INVALID', 'batch.payloads', 'must be a list as long as ids');
  }
  // vectors: a list of vectors (unnamed) or an object of lists (named).
  const vectorAt = (i: number): unknown => {
    if (Array.isArray(vectors)) return vectors[i];
    if (isPlainObject(vectors)) return Object.fromEntries(Object.entries(vectors).map(([name, list]) => [name, Array.isArray(list) ? list[i] : undefined]));
    return undefined;
  };
  if (Array.isArray(vectors) && vectors.length !== ids.length) fail('ERR_QUERY_INVALID', 'batch.vectors', 'must be a list as long as ids');
  if (isPlainObject(vectors)) {
    for (const [name, list] of Object.entries(vectors)) {
      if (!Array.isArray(list) || list.length !== ids.length) fail('ERR_QUERY_INVALID', `batch.vectors.${name}`, 'must be a list as long as ids');
    }
  }
  for (let i = 0; i < ids.length; i++) {
    points.push({
      id: parsePointId(ids[i]),
      vectors: parseVectors(config, vectorAt(i), `batch.vectors[${i}]`, true),
      payload: parsePayload(Array.isArray(payloads) ? payloads[i] : undefined, `batch.payloads[${i}]`),
    });
  }
  return points;
}

/** Refuse a request naming more than {@link MAX_POINTS_PER_WRITE} points (or point ids). */
export function checkCount(n: number): void {
  if (n > MAX_POINTS_PER_WRITE) fail('ERR_REQUEST_TOO_LARGE', '', `at most ${MAX_POINTS_PER_WRITE} points per request; split the batch`);
}
