import fc from 'fast-check';

/**
 * Random payloads and filters over the whole filter grammar, and a reference evaluator written
 * independently of `layers/record/filter/match.ts`: it reads the raw filter JSON and transliterates
 * Qdrant's Rust (`JsonPath::value_get`, `check_field_condition`, `ValueChecker::_check`, the `Match`
 * table in `condition_checker.rs`) rather than our typed AST. Tests compare the two; the index
 * planner's tests reuse the same generators and reference.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** A point as the reference sees it. */
export interface ReferencePoint {
  readonly id: number | string;
  readonly payload: JsonObject;
}

const KEYS = ['a', 'b', 'c'] as const;
const STRINGS = ['x', 'y', 'x y', 'X', 'xy', 'y-x', ''] as const;
/** Valid datetimes in several of Qdrant's accepted forms, some equal as instants, and non-datetimes. */
export const DATETIMES = [
  '2020-03-01T00:00:00Z',
  '2020-03-01 09:00:00+09:00',
  '2020-03-01T01:00:00+0100',
  '2020-03-01',
  '2020-02-29T23:59:59.999999Z',
  '2020-03-01T00:00:00.000001',
  '2021-01-01 00:00',
  '2020-13-01',
  '2020-02-30',
] as const;
const VALID_DATETIMES = DATETIMES.slice(0, 7);
const UUIDS = ['550e8400-e29b-41d4-a716-446655440000', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'] as const;
const PATHS = ['a', 'b', 'c', 'a.b', 'a[].b', 'a[0]', 'a[1].c', 'b[].c', 'a.b.c', 'c[]', 'b[][]'] as const;
const TEXTS = ['x', 'x y', 'y x', 'X', 'xy', '', '-'] as const;

const scalar: fc.Arbitrary<Json> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 3, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, -1.5, 2.25) },
  { weight: 3, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...DATETIMES) },
);

const value: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
  v: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'payload' },
    { weight: 4, arbitrary: scalar },
    { weight: 2, arbitrary: fc.array(tie('v'), { maxLength: 3 }) },
    { weight: 2, arbitrary: fc.record({ a: tie('v'), b: tie('v'), c: tie('v') }, { requiredKeys: [] }) },
  ),
})).v;

/** A random payload: an object with some of the keys a, b, c holding nested values. */
export const arbitraryPayload: fc.Arbitrary<JsonObject> = fc.record({ a: value, b: value, c: value }, { requiredKeys: [] });

/** A random point id: a small integer or one of two UUIDs. */
export const arbitraryPointId: fc.Arbitrary<number | string> = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(...UUIDS));

const key = fc.constantFrom(...PATHS);
const bounds = <T>(b: fc.Arbitrary<T>): fc.Arbitrary<Record<string, T>> =>
  fc
    .record({ lt: b, gt: b, gte: b, lte: b }, { requiredKeys: [] })
    .filter((r) => Object.keys(r).length > 0);
const ints = fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3 });
const strs = fc.array(fc.constantFrom(...STRINGS), { maxLength: 3 });

/** A random field condition (every test of the grammar but has_id, nested and sub-filters). */
export const arbitraryFieldCondition: fc.Arbitrary<JsonObject> = fc.oneof(
  fc.record({ key, match: fc.record({ value: fc.oneof(fc.constantFrom(...STRINGS), fc.integer({ min: -3, max: 3 }), fc.boolean()) }) }),
  fc.record({ key, match: fc.oneof(fc.record({ any: ints }), fc.record({ any: strs })) }),
  fc.record({ key, match: fc.oneof(fc.record({ except: ints }), fc.record({ except: strs })) }),
  fc.record({ key, match: fc.oneof(fc.record({ text: fc.constantFrom(...TEXTS) }), fc.record({ text_any: fc.constantFrom(...TEXTS) }), fc.record({ phrase: fc.constantFrom(...TEXTS) })) }),
  fc.record({ key, match: fc.record({ prefix: fc.constantFrom('x', 'X', '', 'xy', '2020') }) }),
  fc.record({ key, range: bounds(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, 2.25))) }),
  fc.record({ key, range: bounds(fc.constantFrom(...VALID_DATETIMES)) }),
  fc.record({ key, values_count: bounds(fc.integer({ min: 0, max: 3 })) }),
  fc.record({ key, is_empty: fc.boolean() }),
  fc.record({ key, is_null: fc.boolean() }),
  fc.record({ is_empty: fc.record({ key }) }),
  fc.record({ is_null: fc.record({ key }) }),
);

// Ids in a filter may be spelled in upper case: the parser must normalize them.
const hasId = fc.record({
  has_id: fc.array(fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(...UUIDS, UUIDS[0].toUpperCase())), { maxLength: 3 }),
});

function filterOf(depth: number, inNested: boolean): fc.Arbitrary<JsonObject> {
  const leaves = inNested ? [arbitraryFieldCondition] : [arbitraryFieldCondition, hasId];
  const condition: fc.Arbitrary<Json> =
    depth <= 0
      ? fc.oneof(...leaves)
      : fc.oneof(
          { weight: 6, arbitrary: fc.oneof(...leaves) },
          { weight: 1, arbitrary: fc.record({ nested: fc.record({ key: fc.constantFrom('a', 'b', 'c', 'a.b', 'a[]'), filter: filterOf(depth - 1, true) }) }) },
          { weight: 1, arbitrary: filterOf(depth - 1, inNested) },
        );
  // A clause is usually a list (sometimes empty), sometimes one bare condition, as Qdrant allows.
  const clause = fc.oneof({ weight: 4, arbitrary: fc.array(condition, { maxLength: 2 }) }, { weight: 1, arbitrary: condition });
  const minShould = fc.array(condition, { maxLength: 3 }).chain((conditions) =>
    fc.record({ conditions: fc.constant(conditions), min_count: fc.integer({ min: 1, max: Math.max(1, conditions.length + 1) }) }),
  );
  return fc.record({ must: clause, should: clause, must_not: clause, min_should: minShould }, { requiredKeys: [] });
}

/** A random valid filter (as JSON) over the whole grammar Strata supports, up to 3 levels deep. */
export const arbitraryFilter: fc.Arbitrary<JsonObject> = filterOf(2, false);

/** Qdrant's filter semantics, evaluated directly on the filter JSON. */
export function referenceMatches(filter: unknown, point: ReferencePoint): boolean {
  return refFilter(filter as JsonObject, point.payload, point.id);
}

function clauseList(v: Json | undefined): Json[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

function refFilter(f: JsonObject, payload: JsonObject, id: number | string | undefined): boolean {
  const ok = (c: Json): boolean => refCondition(c as JsonObject, payload, id);
  const should = clauseList(f['should']);
  // An empty `should` is no constraint (Qdrant's OptimizedFilter).
  if (should.length > 0 && !should.some(ok)) return false;
  const ms = f['min_should'] as JsonObject | undefined;
  if (ms !== undefined && (ms['conditions'] as Json[]).filter(ok).length < (ms['min_count'] as number)) return false;
  for (const c of clauseList(f['must'])) if (!ok(c)) return false;
  for (const c of clauseList(f['must_not'])) if (ok(c)) return false;
  return true;
}

function refCondition(c: JsonObject, payload: JsonObject, id: number | string | undefined): boolean {
  if ('key' in c) return refField(c, payload);
  if ('is_empty' in c) {
    return get(payload, (c['is_empty'] as JsonObject)['key'] as string).every((v) => v === null || (Array.isArray(v) && v.length === 0));
  }
  if ('is_null' in c) return get(payload, (c['is_null'] as JsonObject)['key'] as string).some((v) => v === null);
  if ('has_id' in c) {
    return (c['has_id'] as Json[]).some((x) => (typeof x === 'string' ? x.toLowerCase() : x) === id);
  }
  if ('nested' in c) {
    const n = c['nested'] as JsonObject;
    const k = n['key'] as string;
    return get(payload, k.endsWith('[]') ? k : `${k}[]`).some(
      (o) => typeof o === 'object' && o !== null && !Array.isArray(o) && refFilter(n['filter'] as JsonObject, o, undefined),
    );
  }
  return refFilter(c, payload, id);
}

// check_field_condition: no values -> check_empty(); otherwise any value passes `check`.
function refField(c: JsonObject, payload: JsonObject): boolean {
  const values = get(payload, c['key'] as string);
  if (values.length === 0) {
    if (c['values_count'] !== undefined) return countOk(c['values_count'] as JsonObject, 0);
    if (c['is_empty'] !== undefined) return c['is_empty'] === true;
    if (c['is_null'] !== undefined) return c['is_null'] !== true;
    return false;
  }
  return values.some((p) => {
    if (c['values_count'] !== undefined) return countOk(c['values_count'] as JsonObject, p === null ? 0 : Array.isArray(p) ? p.length : 1);
    if (c['is_empty'] !== undefined) return p === null ? c['is_empty'] === true : Array.isArray(p) ? (p.length === 0) === c['is_empty'] : c['is_empty'] === false;
    if (c['is_null'] !== undefined) return p === null ? c['is_null'] === true : Array.isArray(p) ? p.includes(null) === c['is_null'] : c['is_null'] === false;
    return Array.isArray(p) ? p.some((x) => checkMatch(c, x)) : checkMatch(c, p);
  });
}

function checkMatch(c: JsonObject, x: Json): boolean {
  const m = c['match'] as JsonObject | undefined;
  if (m !== undefined) {
    if ('value' in m) return typeof m['value'] === 'number' ? typeof x === 'number' && Number.isInteger(x) && x === m['value'] : x === m['value'];
    if ('text' in m) return typeof x === 'string' && words(m['text'] as string).length > 0 && words(m['text'] as string).every((w) => words(x).includes(w));
    if ('text_any' in m) return typeof x === 'string' && words(m['text_any'] as string).some((w) => words(x).includes(w));
    if ('phrase' in m) return typeof x === 'string' && words(m['phrase'] as string).length > 0 && ` ${words(x).join(' ')} `.includes(` ${words(m['phrase'] as string).join(' ')} `);
    if ('prefix' in m) return typeof x === 'string' && x.startsWith(m['prefix'] as string);
    const list = (m['any'] ?? m['except']) as Json[];
    const strings = list.every((v) => typeof v === 'string'); // Qdrant reads [] as a list of strings
    if ('any' in m) return strings ? typeof x === 'string' && list.includes(x) : typeof x === 'number' && Number.isInteger(x) && list.includes(x);
    if (typeof x === 'string' && strings) return !list.includes(x);
    if (typeof x === 'number' && !strings) return Number.isInteger(x) ? !list.includes(x) : true;
    return x !== null;
  }
  const r = c['range'] as JsonObject;
  const isDatetime = Object.values(r).some((b) => typeof b === 'string');
  const n = isDatetime ? (typeof x === 'string' ? micros(x) : undefined) : typeof x === 'number' ? x : undefined;
  if (n === undefined) return false;
  const bound = (k: string): number | undefined => (r[k] === undefined ? undefined : isDatetime ? micros(r[k] as string) : (r[k] as number));
  const [lt, gt, gte, lte] = ['lt', 'gt', 'gte', 'lte'].map(bound);
  return (lt === undefined || n < lt) && (gt === undefined || n > gt) && (gte === undefined || n >= gte) && (lte === undefined || n <= lte);
}

function countOk(b: JsonObject, n: number): boolean {
  const v = (k: string): number | undefined => b[k] as number | undefined;
  return (v('lt') === undefined || n < v('lt')!) && (v('gt') === undefined || n > v('gt')!) && (v('gte') === undefined || n >= v('gte')!) && (v('lte') === undefined || n <= v('lte')!);
}

// ASCII is enough: the generated strings are ASCII.
function words(s: string): string[] {
  return s.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

// Only the generated forms: date, date+hh:mm, date+hh:mm:ss[.ffffff][Z|±hh:mm|±hhmm].
function micros(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(s);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  const z = m[8] ?? 'Z';
  const offsetMin = z === 'Z' ? 0 : (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(-2)));
  return (ms - offsetMin * 60_000) * 1000 + Number((m[7] ?? '').padEnd(6, '0'));
}

// JsonPath::value_get, recursively, on the paths the generator writes.
function get(payload: JsonObject, path: string): Json[] {
  const steps = [...path.matchAll(/([^.[\]]+)|\[(\d*)\]/g)].map((s) => (s[1] !== undefined ? { key: s[1] } : { index: s[2] === '' ? undefined : Number(s[2]) }));
  const out: Json[] = [];
  const walk = (v: Json | undefined, i: number): void => {
    if (v === undefined) return;
    const step = steps[i];
    if (step === undefined) return void out.push(v);
    if ('key' in step) {
      if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, step.key)) walk(v[step.key], i + 1);
    } else if (Array.isArray(v)) {
      if (step.index === undefined) for (const e of v) walk(e, i + 1);
      else walk(v[step.index], i + 1);
    }
  };
  walk(payload, 0);
  return out;
}
