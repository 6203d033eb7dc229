import { DISTANCES, type Distance } from '../vector/distance.js';
import { parseStrictMode, type StrictModeConfig } from './strict-mode.js';
import { fail, isPlainObject, objectOf, optionalBool, optionalInt } from './validate.js';

/**
 * A collection's configuration as Qdrant's create-collection body gives it, parsed and checked once.
 * Stored as JSON in the collection's config key; `toQdrantConfig` gives it back in Qdrant's shape.
 */

/** The largest vector size accepted: one stored value (100,000 bytes) of float32s (Qdrant allows 65,536). */
export const MAX_VECTOR_SIZE = 25_000;

/** One vector of a collection. */
export interface VectorParams {
  readonly size: number;
  readonly distance: Distance;
  /** Settings Strata keeps and reports but does not act on (on_disk, datatype, per-vector HNSW…). */
  readonly extra: Readonly<Record<string, unknown>>;
}

/** HNSW parameters (Qdrant's defaults: m 16, ef_construct 100, full_scan_threshold 10,000 KB). */
export interface HnswConfig {
  readonly m: number;
  readonly ef_construct: number;
  readonly full_scan_threshold: number;
  readonly payload_m?: number;
  readonly max_indexing_threads: number;
  readonly on_disk: boolean;
}

export const HNSW_DEFAULTS: HnswConfig = { m: 16, ef_construct: 100, full_scan_threshold: 10_000, max_indexing_threads: 0, on_disk: false };

/** What a collection is. */
export interface CollectionConfig {
  /** Vectors by name; the unnamed vector of a single-vector collection is named "". */
  readonly vectors: Readonly<Record<string, VectorParams>>;
  /** True when the body named its vectors (a map), false for the single unnamed form. */
  readonly named: boolean;
  readonly hnsw: HnswConfig;
  readonly sharding: 'auto' | 'custom';
  readonly shardNumber: number;
  /** Accepted and reported, no effect in Strata (its storage is the key-value engine's). */
  readonly passthrough: Readonly<Record<string, unknown>>;
  /** Strict mode's settings, when any were given. */
  readonly strict?: StrictModeConfig;
}

const CODE = 'ERR_COLLECTION_CONFIG_INVALID';
const VECTOR_FIELDS = ['size', 'distance', 'hnsw_config', 'quantization_config', 'on_disk', 'datatype', 'multivector_config'];
const HNSW_FIELDS = ['m', 'ef_construct', 'full_scan_threshold', 'max_indexing_threads', 'on_disk', 'payload_m'];
/** Accepted for compatibility; they tune Qdrant's own storage, which Strata does not have. */
const PASSTHROUGH = ['replication_factor', 'write_consistency_factor', 'on_disk_payload', 'optimizers_config', 'wal_config', 'quantization_config'];
const CREATE_FIELDS = ['vectors', 'hnsw_config', 'sharding_method', 'shard_number', 'sparse_vectors', 'strict_mode_config', 'init_from', 'metadata', ...PASSTHROUGH];

function parseVector(where: string, value: unknown): VectorParams {
  const v = objectOf(CODE, where, value, VECTOR_FIELDS);
  const size = optionalInt(CODE, `${where}.size`, v['size'], 1, MAX_VECTOR_SIZE);
  if (size === undefined) fail(CODE, `${where}.size`, 'is required');
  const distance = v['distance'];
  if (!DISTANCES.includes(distance as Distance)) fail(CODE, `${where}.distance`, `must be one of ${DISTANCES.join(', ')}`);
  if (v['multivector_config'] !== undefined && v['multivector_config'] !== null) {
    fail('ERR_FEATURE_UNSUPPORTED', `${where}.multivector_config`, 'multivectors are not supported by Strata yet');
  }
  if (v['datatype'] !== undefined && v['datatype'] !== null && v['datatype'] !== 'float32') {
    fail('ERR_FEATURE_UNSUPPORTED', `${where}.datatype`, 'Strata stores vectors as float32 only');
  }
  const extra: Record<string, unknown> = {};
  for (const key of ['hnsw_config', 'quantization_config', 'on_disk', 'datatype']) if (v[key] !== undefined) extra[key] = v[key];
  return { size, distance: distance as Distance, extra };
}

/** Parse HNSW parameters over `base` (defaults or the current ones, for an update). */
export function parseHnsw(where: string, value: unknown, base: HnswConfig): HnswConfig {
  if (value === undefined || value === null) return base;
  const h = objectOf(CODE, where, value, HNSW_FIELDS);
  const payloadM = optionalInt(CODE, `${where}.payload_m`, h['payload_m'], 0, 1_000);
  return {
    m: optionalInt(CODE, `${where}.m`, h['m'], 0, 1_000, base.m),
    ef_construct: optionalInt(CODE, `${where}.ef_construct`, h['ef_construct'], 4, 10_000, base.ef_construct),
    full_scan_threshold: optionalInt(CODE, `${where}.full_scan_threshold`, h['full_scan_threshold'], 0, 1e12, base.full_scan_threshold),
    max_indexing_threads: optionalInt(CODE, `${where}.max_indexing_threads`, h['max_indexing_threads'], 0, 1_024, base.max_indexing_threads),
    on_disk: optionalBool(CODE, `${where}.on_disk`, h['on_disk'], base.on_disk),
    ...(payloadM !== undefined ? { payload_m: payloadM } : base.payload_m !== undefined ? { payload_m: base.payload_m } : {}),
  };
}

/**
 * Parse a create-collection body. Refuses what Strata cannot honour (sparse vectors, multivectors,
 * `init_from`) with `ERR_FEATURE_UNSUPPORTED` rather than ignoring it.
 */
export function parseCollectionConfig(body: unknown): CollectionConfig {
  const b = objectOf(CODE, '', body ?? {}, CREATE_FIELDS);
  if (isPlainObject(b['sparse_vectors']) && Object.keys(b['sparse_vectors']).length > 0) {
    fail('ERR_FEATURE_UNSUPPORTED', 'sparse_vectors', 'sparse vectors are not supported by Strata yet');
  }
  if (b['init_from'] !== undefined && b['init_from'] !== null) fail('ERR_FEATURE_UNSUPPORTED', 'init_from', 'init_from is not supported; copy points instead');
  const raw = b['vectors'];
  if (raw === undefined || raw === null) fail(CODE, 'vectors', 'is required (Strata has no sparse-only collections)');
  if (!isPlainObject(raw)) fail(CODE, 'vectors', 'must be an object');
  const named = !('size' in raw || 'distance' in raw);
  const vectors: Record<string, VectorParams> = {};
  if (named) {
    const names = Object.keys(raw);
    if (names.length === 0) fail(CODE, 'vectors', 'must name at least one vector');
    for (const name of names) {
      if (name === '' || Buffer.byteLength(name) > 255) fail(CODE, 'vectors', 'vector names must be 1 to 255 bytes');
      vectors[name] = parseVector(`vectors.${name}`, raw[name]);
    }
  } else {
    vectors[''] = parseVector('vectors', raw);
  }
  const sharding = b['sharding_method'] ?? 'auto';
  if (sharding !== 'auto' && sharding !== 'custom') fail(CODE, 'sharding_method', 'must be "auto" or "custom"');
  const passthrough: Record<string, unknown> = {};
  for (const key of PASSTHROUGH) if (b[key] !== undefined) passthrough[key] = b[key];
  const strict = parseStrictMode(b['strict_mode_config']);
  return {
    ...(Object.keys(strict).length > 0 ? { strict } : {}),
    vectors,
    named,
    hnsw: parseHnsw('hnsw_config', b['hnsw_config'], HNSW_DEFAULTS),
    sharding,
    shardNumber: optionalInt(CODE, 'shard_number', b['shard_number'], 1, 1_000, 1),
    passthrough,
  };
}

/** The collection's vector called `name`, if it has one (own names only: not "constructor"). */
export function vectorParams(config: CollectionConfig, name: string): VectorParams | undefined {
  return Object.hasOwn(config.vectors, name) ? config.vectors[name] : undefined;
}

/** The vector called `using` (or the only/unnamed one); `ERR_VECTOR_INVALID` when there is none. */
export function vectorNamed(config: CollectionConfig, using: string | undefined): [string, VectorParams] {
  const name = using ?? '';
  const params = vectorParams(config, name);
  if (params !== undefined) return [name, params];
  if (using === undefined && config.named) {
    fail('ERR_VECTOR_INVALID', '', `the collection has named vectors (${Object.keys(config.vectors).join(', ')}): say which with "using"`);
  }
  return fail('ERR_VECTOR_INVALID', '', `the collection has no vector named ${JSON.stringify(name)}`);
}
