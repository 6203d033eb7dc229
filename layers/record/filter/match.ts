import { parseDatetime } from '../datetime.js';
import { arrayKey, isObject, rawValuesAt, valuesAt } from '../payload-path.js';
import type { PointId } from '../point-id.js';
import { tokenize } from './tokenize.js';
import type { Bounds, Condition, FieldCondition, Filter } from './types.js';

/**
 * Evaluation of a parsed filter against one point, with Qdrant's semantics as its source has them
 * (`payload_storage/query_checker.rs`, `payload_storage/condition_checker.rs`,
 * `index/query_optimization/optimized_filter.rs`). Comments mark where Qdrant surprises.
 */

/** What a filter is evaluated against. */
export interface FilterPoint {
  readonly id: PointId;
  readonly payload: Readonly<Record<string, unknown>>;
}

/**
 * True when `point` passes `filter`: every `must` condition holds, at least one `should` (when
 * there are any), at least `min_count` of `min_should`, and no `must_not`.
 *
 * @example
 * matchesFilter(parseFilter({ must: [{ key: 'color', match: { value: 'red' } }] }), { id: 1, payload: { color: 'red' } }) // true
 */
export function matchesFilter(filter: Filter, point: FilterPoint): boolean {
  return passes(filter, point.payload, point.id);
}

// `id` is undefined inside `nested`, where the parser refuses `has_id`.
function passes(filter: Filter, payload: Readonly<Record<string, unknown>>, id: PointId | undefined): boolean {
  const holds = (c: Condition): boolean => check(c, payload, id);
  // Surprise: Qdrant has two answers for an empty `should` list. Its query path (OptimizedFilter)
  // treats it as no constraint; its plain checker (`check_should`, used inside `nested`) as an empty
  // OR that nothing passes. We take the query path's answer everywhere.
  if (filter.should.length > 0 && !filter.should.some(holds)) return false;
  if (filter.minShould !== undefined) {
    let needed = filter.minShould.minCount;
    for (const c of filter.minShould.conditions) if (needed > 0 && holds(c)) needed--;
    if (needed > 0) return false;
  }
  return filter.must.every(holds) && !filter.mustNot.some(holds);
}

function check(c: Condition, payload: Readonly<Record<string, unknown>>, id: PointId | undefined): boolean {
  switch (c.kind) {
    case 'has_id':
      return id !== undefined && c.ids.has(id);
    case 'filter':
      return passes(c.filter, payload, id);
    case 'nested':
      // Each object element of the array at `key` is tested against the whole inner filter, so
      // conditions on one element cannot be satisfied by two different elements.
      return rawValuesAt(payload, arrayKey(c.key)).some((el) => isObject(el) && passes(c.filter, el, undefined));
    case 'is_empty':
      // Every value is null or []; a missing field has none, so it is empty too.
      return rawValuesAt(payload, c.key).every((v) => v === null || (Array.isArray(v) && v.length === 0));
    case 'is_null':
      // Only an explicit null at the path; unlike the field spelling, `[null]` is not null here.
      return rawValuesAt(payload, c.key).some((v) => v === null);
    default:
      return checkField(c, payload);
  }
}

function checkField(c: Exclude<FieldCondition, { kind: 'is_empty' | 'is_null' }>, payload: Readonly<Record<string, unknown>>): boolean {
  switch (c.kind) {
    case 'values_count': {
      const raw = rawValuesAt(payload, c.key);
      // Surprise: counted per value found, not summed: with `a[].tags`, some element's `tags` must
      // have the count. A missing field counts 0; null counts 0; an array counts its elements.
      if (raw.length === 0) return inBounds(0, c.bounds);
      return raw.some((v) => inBounds(v === null ? 0 : Array.isArray(v) ? v.length : 1, c.bounds));
    }
    case 'field_is_empty': {
      // Surprise: `{"key", "is_empty": true}` is NOT `{"is_empty": {"key"}}`: it asks whether SOME
      // value is null or [], where the latter asks whether all are.
      const raw = rawValuesAt(payload, c.key);
      if (raw.length === 0) return c.value;
      return raw.some((v) => (v === null || (Array.isArray(v) && v.length === 0)) === c.value);
    }
    case 'field_is_null': {
      // Surprise: here an array holding a null counts as null (`[null]` is null), unlike `{"is_null"}`.
      const raw = rawValuesAt(payload, c.key);
      if (raw.length === 0) return !c.value;
      return raw.some((v) => (v === null || (Array.isArray(v) && v.includes(null))) === c.value);
    }
    default:
      // A missing field (or only empty arrays) fails every match and range, `except` included.
      return valuesAt(payload, c.key).some((v) => matchesValue(c, v));
  }
}

type ValueTest = Exclude<FieldCondition, { kind: 'values_count' | 'field_is_empty' | 'field_is_null' | 'is_empty' | 'is_null' }>;

function matchesValue(c: ValueTest, v: unknown): boolean {
  switch (c.kind) {
    case 'match_value':
      // Strict equality: an integer matches integers only, never "1" or true. Qdrant also refuses a
      // stored 1.0 (serde keeps it a float); JSON.parse has already made it 1 here, so Strata matches.
      return v === c.value;
    case 'match_any':
      return (typeof v === 'string' || typeof v === 'number') && (c.values as readonly unknown[]).includes(v);
    case 'match_except':
      // Surprise: `except` is "some value is not in the list", and a value of another type (bool,
      // object, a float against integers, an array inside the array) counts as not in it; only
      // null never passes.
      return v !== null && !(c.values as readonly unknown[]).includes(v);
    case 'match_text':
    case 'match_text_any':
    case 'match_phrase':
      return typeof v === 'string' && matchesText(c.kind, tokenize(c.text), tokenize(v));
    case 'match_prefix':
      return typeof v === 'string' && v.startsWith(c.prefix);
    case 'range':
      return typeof v === 'number' && inBounds(v, c.bounds);
    case 'datetime_range': {
      const micros = typeof v === 'string' ? parseDatetime(v) : undefined;
      return micros !== undefined && inBounds(micros, c.bounds);
    }
  }
}

/**
 * Strata matches text by tokens, as Qdrant does when the field has a full-text index: `text` needs
 * every query token, `text_any` one of them, `phrase` all of them consecutively, within one value.
 * (Without an index Qdrant falls back to a case-sensitive substring test, so its answers depend on
 * whether an index exists; Strata's do not.) A query with no tokens matches nothing, as the index.
 */
function matchesText(kind: 'match_text' | 'match_text_any' | 'match_phrase', query: string[], doc: string[]): boolean {
  if (query.length === 0) return false;
  if (kind === 'match_text') return query.every((t) => doc.includes(t));
  if (kind === 'match_text_any') return query.some((t) => doc.includes(t));
  for (let i = 0; i + query.length <= doc.length; i++) {
    if (query.every((t, j) => doc[i + j] === t)) return true;
  }
  return false;
}

function inBounds(n: number, b: Bounds): boolean {
  return (
    (b.lt === undefined || n < b.lt) &&
    (b.gt === undefined || n > b.gt) &&
    (b.gte === undefined || n >= b.gte) &&
    (b.lte === undefined || n <= b.lte)
  );
}
