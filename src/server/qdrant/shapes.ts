import type { Collection, ShardKey } from '../../../layers/record/collections.js';
import { parseFilter } from '../../../layers/record/filter/parse.js';
import type { Filter } from '../../../layers/record/filter/types.js';
import { withoutPath } from '../../../layers/record/payload-edit.js';
import { parsePayloadPath, valuesAt } from '../../../layers/record/payload-path.js';
import { checkCount } from '../../../layers/record/parse-points.js';
import { parsePointId, type PointId } from '../../../layers/record/point-id.js';
import { fail, isPlainObject } from '../../../layers/record/validate.js';

/**
 * Qdrant's request fragments shared by many routes (`with_payload`, `with_vector`, point selectors,
 * shard keys) parsed into typed values, and records rendered back in Qdrant's shapes.
 */

/** Which payload to return: all, none, or some keys. */
export type PayloadSelection = boolean | { readonly include: readonly string[] } | { readonly exclude: readonly string[] };
/** Which vectors to return: all, none, or some names. */
export type VectorSelection = boolean | readonly string[];

const CODE = 'ERR_QUERY_INVALID';

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every(v => typeof v === 'string')) fail(CODE, where, 'must be a list of strings');
  return value as string[];
}

/** `with_payload`: a bool, a list of keys, `{include}` or `{exclude}`. */
export function parseWithPayload(value: unknown, fallback: boolean): PayloadSelection {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return { include: stringList(value, 'with_payload') };
  if (isPlainObject(value) && 'include' in value) return { include: stringList(value['include'], 'with_payload.include') };
  if (isPlainObject(value) && 'exclude' in value) return { exclude: stringList(value['exclude'], 'with_payload.exclude') };
  return fail(CODE, 'with_payload', 'must be true, false, a list of keys, {include} or {exclude}');
}

/** `with_vector` (or `with_vectors`): a bool or a list of vector names. */
export function parseWithVector(value: unknown, fallback: boolean): VectorSelection {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  return stringList(value, 'with_vector');
}

/** The payload as `selection` shows it; undefined when none is to be returned. */
export function selectPayload(payload: Readonly<Record<string, unknown>>, selection: PayloadSelection): Record<string, unknown> | undefined {
  if (selection === false) return undefined;
  if (selection === true) return { ...payload };
  if ('include' in selection) {
    const out: Record<string, unknown> = {};
    for (const key of selection.include) {
      if (key in payload) out[key] = payload[key];
      else if (key.includes('.')) {
        const found = valuesAt(payload, parsePayloadPath(key));
        if (found.length > 0) out[key] = found.length === 1 ? found[0] : found;
      }
    }
    return out;
  }
  let out: Record<string, unknown> = { ...payload };
  for (const key of selection.exclude) out = withoutPath(out, key);
  return out;
}

/** The vectors as `selection` shows them: the bare array for a single unnamed vector. */
export function selectVectors(c: Collection, vectors: ReadonlyMap<string, Float32Array>, selection: VectorSelection): number[] | Record<string, number[]> | undefined {
  if (selection === false) return undefined;
  if (!c.config.named) {
    const v = vectors.get('');
    return v === undefined || (Array.isArray(selection) && !selection.includes('')) ? undefined : Array.from(v);
  }
  const out: Record<string, number[]> = {};
  for (const [name, v] of vectors) if (selection === true || (selection as readonly string[]).includes(name)) out[name] = Array.from(v);
  return out;
}

/** True when `selection` asks for any vector. */
export function wantsVectors(selection: VectorSelection): boolean {
  return selection === true || (Array.isArray(selection) && selection.length > 0);
}

/** A point selector: `{points: ids}` or `{filter}`. */
export type PointSelector = { readonly ids: readonly PointId[] } | { readonly filter: Filter };

/** The selector of a delete, payload or vector-delete body; `ERR_QUERY_INVALID` when it has none. */
export function parseSelector(body: Readonly<Record<string, unknown>>): PointSelector {
  if (Array.isArray(body['points'])) return { ids: parseIds(body['points']) };
  if (body['filter'] !== undefined && body['filter'] !== null) return { filter: parseFilter(body['filter']) };
  return fail(CODE, '', 'Either list of point ids or filter must be provided');
}

/** An optional filter. */
export function parseOptionalFilter(value: unknown): Filter | undefined {
  return value === undefined || value === null ? undefined : parseFilter(value);
}

/** `shard_key` (or a selector of one key): Strata reads and writes one shard key at a time. */
export function parseShardKey(value: unknown): ShardKey | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) return value;
  if (Array.isArray(value) && value.length === 1) return parseShardKey(value[0]);
  if (Array.isArray(value)) fail('ERR_FEATURE_UNSUPPORTED', 'shard_key', 'Strata reads and writes one shard key per request');
  return fail('ERR_SHARD_KEY_INVALID', 'shard_key', 'must be a string or an unsigned integer');
}

/** A whole number option with bounds. */
export function intOption(value: unknown, where: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) fail(CODE, where, `must be a whole number from ${min} to ${max}`);
  return value;
}

/** A list of point ids, at most as many as one write takes. */
export function parseIds(list: readonly unknown[]): PointId[] {
  checkCount(list.length);
  return list.map(parsePointId);
}
