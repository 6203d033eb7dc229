import { StrataError } from '../../src/errors.js';
import { fail, isPlainObject, objectOf, optionalBool } from './validate.js';

/**
 * A collection's strict mode, as Qdrant's `strict_mode_config`: limits that protect a shared
 * server from expensive requests. Stored with the collection's config; `enabled: false` (the
 * default) turns every check off while keeping the values. Checks answer Qdrant's messages
 * (`Strict mode error: Limit exceeded 20 > 10 for "limit". Help: …`) with Strata's stable code
 * `ERR_STRICT_MODE`.
 */

/** The settings; absent means no limit. */
export interface StrictModeConfig {
  readonly enabled?: boolean;
  readonly max_query_limit?: number;
  readonly max_timeout?: number;
  readonly unindexed_filtering_retrieve?: boolean;
  readonly unindexed_filtering_update?: boolean;
  readonly search_max_hnsw_ef?: number;
  readonly search_allow_exact?: boolean;
  readonly search_max_oversampling?: number;
  readonly upsert_max_batchsize?: number;
  readonly search_max_batchsize?: number;
  readonly max_collection_vector_size_bytes?: number;
  readonly max_collection_payload_size_bytes?: number;
  readonly max_points_count?: number;
  readonly max_payload_index_count?: number;
  readonly filter_max_conditions?: number;
  readonly condition_max_size?: number;
  /** Operations per minute (a token bucket per collection, on each server). */
  readonly read_rate_limit?: number;
  readonly write_rate_limit?: number;
}

const BOOLS = ['enabled', 'unindexed_filtering_retrieve', 'unindexed_filtering_update', 'search_allow_exact'] as const;
const COUNTS = [
  'max_query_limit',
  'max_timeout',
  'search_max_hnsw_ef',
  'upsert_max_batchsize',
  'search_max_batchsize',
  'max_collection_vector_size_bytes',
  'max_collection_payload_size_bytes',
  'max_points_count',
  'max_payload_index_count',
  'filter_max_conditions',
  'condition_max_size',
  'read_rate_limit',
  'write_rate_limit',
] as const;
/** Accepted and reported; they limit features Strata does not have (quantization, multivectors, sparse vectors). */
const INERT = ['multivector_config', 'sparse_config', 'max_resident_memory_percent'] as const;
const FIELDS = [...BOOLS, ...COUNTS, 'search_max_oversampling', ...INERT];
const CODE = 'ERR_COLLECTION_CONFIG_INVALID';

/**
 * Parse a `strict_mode_config` over `base` (the current settings, for a PATCH: Qdrant merges the
 * fields given and keeps the others; `null` clears one).
 */
export function parseStrictMode(value: unknown, base: StrictModeConfig = {}): StrictModeConfig {
  if (value === undefined || value === null) return base;
  const v = objectOf(CODE, 'strict_mode_config', value, FIELDS);
  const out: Record<string, unknown> = { ...base };
  const set = (name: string, parsed: unknown) => {
    if (v[name] === null) delete out[name];
    else if (v[name] !== undefined) out[name] = parsed;
  };
  for (const name of BOOLS) set(name, optionalBool(CODE, `strict_mode_config.${name}`, v[name], false));
  for (const name of COUNTS) {
    const n = v[name];
    if (n !== undefined && n !== null && (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)) {
      fail(CODE, `strict_mode_config.${name}`, 'must be a whole number, 0 or more');
    }
    set(name, n);
  }
  const oversampling = v['search_max_oversampling'];
  if (oversampling !== undefined && oversampling !== null && (typeof oversampling !== 'number' || !(oversampling >= 0) || !Number.isFinite(oversampling))) {
    fail(CODE, 'strict_mode_config.search_max_oversampling', 'must be a number, 0 or more');
  }
  set('search_max_oversampling', oversampling);
  for (const name of INERT) {
    if (v[name] !== undefined && v[name] !== null && !isPlainObject(v[name]) && typeof v[name] !== 'number') fail(CODE, `strict_mode_config.${name}`, 'is not valid');
    set(name, v[name]);
  }
  return out as StrictModeConfig;
}

/** The settings that apply: undefined unless strict mode is enabled. */
export function activeStrictMode(config: StrictModeConfig | undefined): StrictModeConfig | undefined {
  return config?.enabled === true ? config : undefined;
}

/** Qdrant's strict-mode error: `{error}. Help: {solution}`. */
export function strictModeError(error: string, solution: string, details?: Record<string, unknown>): StrataError {
  return new StrataError('ERR_STRICT_MODE', `Bad request: Strict mode error: ${error}. Help: ${solution}`, details === undefined ? {} : { details });
}

/** Refuse `value` above `limit` (Qdrant's `check_limit_opt`). */
export function checkLimit(value: number | undefined, limit: number | undefined, name: string): void {
  if (value === undefined || limit === undefined || value <= limit) return;
  throw strictModeError(`Limit exceeded ${value} > ${limit} for "${name}"`, `Reduce the "${name}" parameter to or below ${limit}.`, { name, value, limit });
}

/** Refuse a feature switched off (Qdrant's `check_bool_opt`). */
export function checkAllowed(used: boolean | undefined, allowed: boolean | undefined, name: string, parameter: string): void {
  if (allowed !== false || used !== true) return;
  throw strictModeError(`${name} disabled!`, `Set ${parameter}=false.`, { name: parameter });
}
