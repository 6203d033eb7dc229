import { StrataError, isStrataError } from '../../../src/errors.js';
import { parseDatetime } from '../datetime.js';
import { parsePayloadPath, type PayloadPath } from '../payload-path.js';
import { parsePointId, type PointId } from '../point-id.js';
import type { Bounds, Condition, FieldCondition, Filter, MinShould } from './types.js';

/**
 * Parsing and validation of Qdrant's filter JSON (`Filter`, `Condition` and friends in qdrant
 * `lib/segment/src/types.rs`) into the typed form of types.ts.
 *
 * Stricter than Qdrant where Qdrant's serde would silently accept nonsense: unknown fields are
 * refused everywhere (Qdrant ignores them in conditions and `min_should`), a field condition holds
 * exactly one test (Qdrant ORs several, except that `values_count`/`is_empty`/`is_null` silently win),
 * a `range` or `values_count` needs a bound, and `has_id` inside `nested` is refused (Qdrant's docs
 * say it is unsupported; its code accepts it and never matches). Geo conditions, `has_vector` and
 * `slice` are Qdrant features Strata does not offer yet: `ERR_FEATURE_UNSUPPORTED`.
 */

/** Limits that keep hostile filters from exhausting the stack or the CPU. */
export const FILTER_LIMITS = {
  /** Filters inside filters (a `nested` or a filter used as a condition adds one level). */
  maxDepth: 32,
  /** Conditions in the whole filter, counted as {@link conditionCount} does. */
  maxConditions: 1000,
} as const;

const CLAUSES = ['must', 'should', 'must_not', 'min_should'] as const;
const FIELD_TESTS = ['match', 'range', 'values_count', 'is_empty', 'is_null'] as const;
const UNSUPPORTED_FIELD_TESTS = ['geo_bounding_box', 'geo_radius', 'geo_polygon'] as const;
const MATCH_KINDS = ['value', 'any', 'except', 'text', 'text_any', 'phrase', 'prefix'] as const;
const BOUNDS = ['lt', 'gt', 'gte', 'lte'] as const;
const I64_LIMIT = 2 ** 63;

interface Walk {
  conditions: number;
}

/**
 * Checks `json` against the filter grammar and returns its typed form; anything off the grammar
 * throws `ERR_FILTER_INVALID` with a message naming where, e.g. `filter.must[2].match: …`.
 *
 * @example
 * parseFilter({ must: [{ key: 'city', match: { value: 'London' } }] })
 */
export function parseFilter(json: unknown): Filter {
  return filterAt(json, 'filter', 1, false, { conditions: 0 });
}

/**
 * How many conditions `filter` holds, at every depth: each entry of every clause counts one, and
 * so do the conditions inside filters used as conditions and inside `nested`. Planning uses it to
 * weigh a filter; the parser refuses more than {@link FILTER_LIMITS}.maxConditions.
 */
export function conditionCount(filter: Filter): number {
  let count = 0;
  const stack: Filter[] = [filter];
  for (let f = stack.pop(); f !== undefined; f = stack.pop()) {
    for (const c of [...f.must, ...f.should, ...f.mustNot, ...(f.minShould?.conditions ?? [])]) {
      count++;
      if (c.kind === 'filter' || c.kind === 'nested') stack.push(c.filter);
    }
  }
  return count;
}

function filterAt(json: unknown, at: string, depth: number, inNested: boolean, walk: Walk): Filter {
  // Checked before descending, so a 10,000-level filter fails after 33 frames, not a stack overflow.
  if (depth > FILTER_LIMITS.maxDepth) fail(at, `filters may nest at most ${FILTER_LIMITS.maxDepth} levels deep`);
  const obj = objectAt(json, at, CLAUSES);
  const clause = (name: string): Condition[] => {
    const v = obj[name];
    const where = `${at}.${name}`;
    // Qdrant's `MaybeOneOrMany`: null means absent, and a single condition may stand for a list.
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v.map((c: unknown, i) => conditionAt(c, `${where}[${i}]`, depth, inNested, walk));
    return [conditionAt(v, where, depth, inNested, walk)];
  };
  const filter = { must: clause('must'), should: clause('should'), mustNot: clause('must_not') };
  const minShould = obj['min_should'] === undefined || obj['min_should'] === null
    ? undefined
    : minShouldAt(obj['min_should'], `${at}.min_should`, depth, inNested, walk);
  return minShould === undefined ? filter : { ...filter, minShould };
}

function minShouldAt(json: unknown, at: string, depth: number, inNested: boolean, walk: Walk): MinShould {
  const obj = objectAt(json, at, ['conditions', 'min_count']);
  const list = obj['conditions'];
  if (!Array.isArray(list)) fail(`${at}.conditions`, `must be a list of conditions, not ${typeName(list)}`);
  const minCount = obj['min_count'];
  // Qdrant validates `min_count >= 1`: with 0 the clause would match every point, a footgun.
  if (typeof minCount !== 'number' || !Number.isSafeInteger(minCount) || minCount < 1) {
    fail(`${at}.min_count`, `must be a whole number of at least 1, not ${describe(minCount)}`);
  }
  const conditions = list.map((c: unknown, i) => conditionAt(c, `${at}.conditions[${i}]`, depth, inNested, walk));
  return { conditions, minCount };
}

function conditionAt(json: unknown, at: string, depth: number, inNested: boolean, walk: Walk): Condition {
  if (++walk.conditions > FILTER_LIMITS.maxConditions) {
    fail(at, `a filter may hold at most ${FILTER_LIMITS.maxConditions} conditions`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(at, `a condition must be an object, not ${typeName(json)}`);
  const has = (k: string): boolean => Object.hasOwn(json, k);
  // The same order as Qdrant's untagged `Condition`: a `key` makes a field condition.
  if (has('key')) return fieldConditionAt(json, at);
  if (has('is_empty') || has('is_null')) {
    const kind = has('is_empty') ? 'is_empty' : 'is_null';
    const obj = objectAt(json, at, [kind]);
    const inner = objectAt(obj[kind], `${at}.${kind}`, ['key']);
    return { kind, key: keyAt(inner['key'], `${at}.${kind}.key`) };
  }
  if (has('has_id')) {
    if (inNested) fail(at, 'has_id cannot be used inside nested (Qdrant does not support it there)');
    const list = objectAt(json, at, ['has_id'])['has_id'];
    if (!Array.isArray(list)) fail(`${at}.has_id`, `must be a list of point ids, not ${typeName(list)}`);
    return { kind: 'has_id', ids: new Set(list.map((id: unknown, i) => pointIdAt(id, `${at}.has_id[${i}]`))) };
  }
  for (const feature of ['has_vector', 'slice']) if (has(feature)) unsupported(at, feature);
  if (has('nested')) {
    const inner = objectAt(objectAt(json, at, ['nested'])['nested'], `${at}.nested`, ['key', 'filter']);
    const key = keyAt(inner['key'], `${at}.nested.key`);
    if (inner['filter'] === undefined) fail(`${at}.nested.filter`, 'is required');
    return { kind: 'nested', key, filter: filterAt(inner['filter'], `${at}.nested.filter`, depth + 1, true, walk) };
  }
  // What is left can only be a filter; `{}` is the empty filter, which every point passes.
  return { kind: 'filter', filter: filterAt(json, at, depth + 1, inNested, walk) };
}

function fieldConditionAt(json: object, at: string): FieldCondition {
  const obj = objectAt(json, at, ['key', ...FIELD_TESTS, ...UNSUPPORTED_FIELD_TESTS]);
  const key = keyAt(obj['key'], `${at}.key`);
  // Qdrant reads a null test as an absent one.
  const present = FIELD_TESTS.filter((t) => obj[t] !== undefined && obj[t] !== null);
  for (const geo of UNSUPPORTED_FIELD_TESTS) if (obj[geo] !== undefined && obj[geo] !== null) unsupported(at, geo);
  const [test, extra] = present;
  if (test === undefined) fail(at, `a field condition needs one of ${FIELD_TESTS.join(', ')}`);
  if (extra !== undefined) fail(at, `a field condition holds one test, not both ${test} and ${extra}; combine them with must`);
  const v = obj[test];
  const where = `${at}.${test}`;
  switch (test) {
    case 'match':
      return matchAt(v, where, key);
    case 'range':
      return rangeAt(v, where, key);
    case 'values_count':
      return { kind: 'values_count', key, bounds: boundsAt(v, where, 'a whole number of at least 0', (b) => Number.isSafeInteger(b) && b >= 0) };
    case 'is_empty':
    case 'is_null':
      if (typeof v !== 'boolean') fail(where, `must be true or false, not ${typeName(v)}`);
      return { kind: test === 'is_empty' ? 'field_is_empty' : 'field_is_null', key, value: v };
  }
}

function matchAt(json: unknown, at: string, key: PayloadPath): FieldCondition {
  const obj = objectAt(json, at, MATCH_KINDS);
  const present = MATCH_KINDS.filter((k) => obj[k] !== undefined);
  const [kind, extra] = present;
  if (kind === undefined) fail(at, `must hold one of ${MATCH_KINDS.join(', ')}`);
  if (extra !== undefined) fail(at, `must hold one of ${MATCH_KINDS.join(', ')}, not both ${kind} and ${extra}`);
  const v = obj[kind];
  const where = `${at}.${kind}`;
  switch (kind) {
    case 'value':
      // Qdrant's `ValueVariants`: a keyword, an i64 or a bool; a fractional number is refused.
      if (typeof v === 'string' || typeof v === 'boolean' || isInteger(v)) return { kind: 'match_value', key, value: v };
      return fail(where, `must be a string, an integer or a boolean, not ${describe(v)}`);
    case 'any':
    case 'except': {
      if (!Array.isArray(v)) fail(where, `must be a list of strings or of integers, not ${typeName(v)}`);
      // Qdrant's `AnyVariants`: all strings or all i64s, never mixed.
      const strings = v.every((x) => typeof x === 'string');
      if (!strings && !v.every(isInteger)) fail(where, 'must hold only strings or only integers');
      return { kind: kind === 'any' ? 'match_any' : 'match_except', key, values: v as string[] | number[] };
    }
    default: {
      if (typeof v !== 'string') fail(where, `must be a string, not ${typeName(v)}`);
      if (kind === 'prefix') return { kind: 'match_prefix', key, prefix: v };
      return { kind: kind === 'text' ? 'match_text' : kind === 'text_any' ? 'match_text_any' : 'match_phrase', key, text: v };
    }
  }
}

function rangeAt(json: unknown, at: string, key: PayloadPath): FieldCondition {
  const obj = objectAt(json, at, BOUNDS);
  // Qdrant decides by the JSON type: any string bound makes a datetime range, whose bounds must then
  // all be datetimes; otherwise every bound is a number.
  if (BOUNDS.some((b) => typeof obj[b] === 'string')) {
    const bounds: Record<string, number> = {};
    for (const b of BOUNDS) {
      const v = obj[b];
      if (v === undefined || v === null) continue;
      const micros = typeof v === 'string' ? parseDatetime(v) : undefined;
      if (micros === undefined) fail(`${at}.${b}`, `${describe(v)} is not a datetime (RFC 3339, e.g. 2014-01-01T00:00:00Z)`);
      bounds[b] = micros;
    }
    return { kind: 'datetime_range', key, bounds };
  }
  return { kind: 'range', key, bounds: boundsAt(obj, at, 'a number', Number.isFinite) };
}

function boundsAt(json: unknown, at: string, what: string, ok: (n: number) => boolean): Bounds {
  const obj = objectAt(json, at, BOUNDS);
  const bounds: Record<string, number> = {};
  for (const b of BOUNDS) {
    const v = obj[b];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !ok(v)) fail(`${at}.${b}`, `must be ${what}, not ${describe(v)}`);
    bounds[b] = v;
  }
  if (Object.keys(bounds).length === 0) fail(at, `needs at least one of ${BOUNDS.join(', ')}`);
  return bounds;
}

function keyAt(v: unknown, at: string): PayloadPath {
  if (typeof v !== 'string') fail(at, `a payload key must be a string, not ${typeName(v)}`);
  return rewrap(at, () => parsePayloadPath(v));
}

function pointIdAt(v: unknown, at: string): PointId {
  return rewrap(at, () => parsePointId(v));
}

/** The filter's own code for a bad key or id found inside it, keeping the first error as cause. */
function rewrap<T>(at: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!isStrataError(err)) throw err;
    throw new StrataError('ERR_FILTER_INVALID', `${at}: ${err.message}`, { details: { at }, cause: err });
  }
}

function objectAt(json: unknown, at: string, allowed: readonly string[]): Readonly<Record<string, unknown>> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(at, `must be an object, not ${typeName(json)}`);
  // A copy of the own fields without a prototype: an inherited `must` or a `__proto__` key must not
  // be read as part of the filter.
  const own: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(json)) {
    if (!allowed.includes(k)) fail(at, `unknown field ${JSON.stringify(k)} (expected ${allowed.join(', ')})`);
    own[k] = (json as Record<string, unknown>)[k];
  }
  return own;
}

function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < I64_LIMIT;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function describe(v: unknown): string {
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v === 'string' ? JSON.stringify(v.slice(0, 64)) : typeName(v);
}

function fail(at: string, message: string): never {
  throw new StrataError('ERR_FILTER_INVALID', `${at}: ${message}`, { details: { at } });
}

function unsupported(at: string, feature: string): never {
  throw new StrataError('ERR_FEATURE_UNSUPPORTED', `${at}: the ${feature} condition is not supported by Strata yet`, {
    details: { at, feature },
  });
}
