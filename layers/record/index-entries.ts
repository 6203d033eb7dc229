import { createHash } from 'node:crypto';
import type { TupleItem } from '../../src/kv/tuple.js';
import { parseDatetime } from './datetime.js';
import { tokenize } from './filter/tokenize.js';
import type { IndexSchema } from './index-schema.js';
import { canonicalUuid, uuidTupleItem } from './point-id.js';
import { parsePayloadPath, valuesAt } from './payload-path.js';

/**
 * What a payload index stores for a payload: the tuple items of the values found at the indexed
 * field, converted to the index's type. Values of another type are not indexed (as Qdrant: an
 * integer index ignores strings), so the planner re-checks every candidate with the full filter.
 * An index must hold every value a condition it serves can match: see the numeric case.
 */

/** The index values of `payload` for a `schema` index on `field`, without repeats. */
export function indexValues(schema: IndexSchema, field: string, payload: Readonly<Record<string, unknown>>): TupleItem[] {
  const out = new Map<string, TupleItem>();
  for (const value of valuesAt(payload, parsePayloadPath(field))) {
    for (const item of indexItems(schema, value)) out.set(itemIdentity(item), item);
  }
  return [...out.values()];
}

/** The index items one value contributes under `schema` (none when it has another type). */
export function indexItems(schema: IndexSchema, value: unknown): TupleItem[] {
  switch (schema.type) {
    case 'keyword':
      return typeof value === 'string' ? [stringItem(value)] : [];
    // Both numeric indexes hold every finite number, as a tuple double: a range condition matches
    // floats in a field Qdrant would call integer, and the planner may only use an index that holds
    // every value the condition can match.
    case 'integer':
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? [floatItem(value)] : [];
    case 'bool':
      return typeof value === 'boolean' ? [value] : [];
    case 'datetime': {
      const us = typeof value === 'string' ? parseDatetime(value) : undefined;
      return us === undefined ? [] : [us];
    }
    case 'uuid': {
      const uuid = typeof value === 'string' ? canonicalUuid(value) : undefined;
      return uuid === undefined ? [] : [uuidItem(uuid)];
    }
    case 'text':
      return typeof value === 'string' ? tokenize(value).map(stringItem) : [];
  }
}

/** Longer strings are indexed by a prefix and a hash, so that any value fits in a key. */
export const MAX_INDEXED_STRING = 256;

/**
 * The index item of a keyword or token. A string longer than {@link MAX_INDEXED_STRING} characters
 * becomes its first 200 characters, a NUL and 16 hex digits of its SHA-256: the key stays short,
 * equal strings still meet, and the planner re-checks candidates, so a (vanishingly unlikely)
 * collision only costs a record read.
 */
export function stringItem(value: string): string {
  if (value.length <= MAX_INDEXED_STRING) return value;
  return `${value.slice(0, 200)}\u0000${createHash('sha256').update(value).digest('hex').slice(0, 16)}`;
}

/** A float index value: always a tuple double, so 3 and 3.0 and 2.5 sort together. */
export function floatItem(value: number): TupleItem {
  return { type: 'double', value: value === 0 ? 0 : value };
}

/** A UUID index value (canonical form in, tuple UUID out). */
export function uuidItem(canonical: string): TupleItem {
  return uuidTupleItem(canonical);
}

function itemIdentity(item: TupleItem): string {
  if (typeof item === 'object' && item !== null && 'value' in item) {
    return `${item.type}:${Buffer.isBuffer(item.value) ? item.value.toString('hex') : String(item.value)}`;
  }
  return `${typeof item}:${String(item)}`;
}
