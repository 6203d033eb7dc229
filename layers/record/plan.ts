import { prefixEnd } from '../../src/kv/keys.js';
import type { TupleItem } from '../../src/kv/tuple.js';
import type { Collection, ShardKey } from './collections.js';
import type { Bounds, Condition, Filter } from './filter/types.js';
import { tokenize } from './filter/tokenize.js';
import { floatItem, MAX_INDEXED_STRING, stringItem, uuidItem } from './index-entries.js';
import type { IndexSchema } from './index-schema.js';
import { canonicalUuid } from './point-id.js';
import type { PayloadScope } from './scope.js';
import { SHARD_KEY_FIELD } from './store.js';

/**
 * The query planner: which payload index ranges can supply the candidates of a read. Each source is
 * a union of index key ranges that together hold an entry for every point the read can return (a
 * top-level `must` condition, a scope field, the shard key), so the read may take its candidates
 * from any one source and re-check the whole filter on them. The reader picks the smallest.
 */

/** A set of index key ranges whose entries' points include every point a read can return. */
export interface CandidateSource {
  /** What it is, for explanations and tests (`must[0] city match`, `scope tenant_id`, `shard key`). */
  readonly label: string;
  readonly ranges: readonly IndexRange[];
  /**
   * True when the source's entries are exactly the points that pass the condition (so a count
   * with no other condition needs no record): an equality on a keyword, numeric or bool index.
   */
  readonly exact?: boolean;
}

/** A range of index entries. */
export interface IndexRange {
  readonly begin: Uint8Array;
  readonly end: Uint8Array;
  /**
   * Where the point id starts in the range's keys, for ranges of one indexed value (whose entries
   * are then in id order); absent for value ranges, whose keys must be unpacked.
   */
  readonly idOffset?: number;
}

/** What a read asks for. */
export interface ReadSpec {
  readonly filter?: Filter | undefined;
  readonly scope?: PayloadScope | undefined;
  readonly shardKey?: ShardKey | undefined;
}

/** The candidate sources a read can use (possibly none: then it scans). */
export function candidateSources(c: Collection, spec: ReadSpec): CandidateSource[] {
  const sources: CandidateSource[] = [];
  if (spec.shardKey !== undefined) sources.push({ label: 'shard key', ranges: [prefixRange(c, SHARD_KEY_FIELD, spec.shardKey)], exact: true });
  for (const [field, value] of Object.entries(spec.scope ?? {})) {
    const schema = usableIndex(c, field);
    const item = schema === undefined ? undefined : equalityItem(schema, value);
    if (item !== undefined) sources.push({ label: `scope ${field}`, ranges: [prefixRange(c, field, item)] });
  }
  for (const [i, condition] of (spec.filter?.must ?? []).entries()) {
    const source = conditionSource(c, condition);
    if (source !== undefined) sources.push({ ...source, label: `must[${i}] ${source.label}` });
  }
  return sources;
}

function conditionSource(c: Collection, condition: Condition): CandidateSource | undefined {
  if (condition.kind === 'filter') {
    // A nested filter whose own must can be served is as good (every match satisfies it).
    for (const inner of condition.filter.must) {
      const source = conditionSource(c, inner);
      // The inner filter may say more than this one condition: its entries are no exact answer.
      if (source !== undefined) return { ...source, exact: false };
    }
    return undefined;
  }
  if (!('key' in condition) || condition.kind === 'nested') return undefined;
  const field = condition.key.text;
  const schema = usableIndex(c, field);
  if (schema === undefined) return undefined;
  switch (condition.kind) {
    case 'match_value': {
      const item = equalityItem(schema, condition.value);
      // A long string is indexed by prefix and hash: its entries are candidates, not an answer.
      const exact = schema.type !== 'uuid' && !(typeof condition.value === 'string' && condition.value.length > MAX_INDEXED_STRING);
      return item === undefined ? undefined : { label: `${field} match`, ranges: [prefixRange(c, field, item)], exact };
    }
    case 'match_any': {
      const items = condition.values.map(v => equalityItem(schema, v));
      if (items.some(i => i === undefined)) return undefined;
      return { label: `${field} any`, ranges: (items as TupleItem[]).map(item => prefixRange(c, field, item)) };
    }
    case 'range':
      return schema.type === 'integer' || schema.type === 'float' ? floatRange(c, field, condition.bounds) : undefined;
    case 'datetime_range':
      return schema.type === 'datetime' ? intRange(c, field, condition.bounds) : undefined;
    case 'match_text': {
      if (schema.type !== 'text') return undefined;
      // Every query token must be among the value's: any one token's entries hold all matches.
      const [token] = tokenize(condition.text);
      return token === undefined ? undefined : { label: `${field} text`, ranges: [prefixRange(c, field, stringItem(token))] };
    }
    default:
      return undefined;
  }
}

/** The index on `field` when it is complete (one still being built may miss points). */
function usableIndex(c: Collection, field: string): IndexSchema | undefined {
  const schema = Object.hasOwn(c.indexes, field) ? c.indexes[field] : undefined;
  return schema?.building === true ? undefined : schema;
}

/** The index item an equality on `value` looks up, when the index's type can hold it. */
function equalityItem(schema: IndexSchema, value: string | number | boolean): TupleItem | undefined {
  switch (schema.type) {
    case 'keyword':
      return typeof value === 'string' ? stringItem(value) : undefined;
    case 'integer':
    case 'float':
      // match.value holds integers only; numeric indexes store every number as a double.
      return typeof value === 'number' && Number.isSafeInteger(value) ? floatItem(value) : undefined;
    case 'bool':
      return typeof value === 'boolean' ? value : undefined;
    case 'uuid': {
      const uuid = typeof value === 'string' ? canonicalUuid(value) : undefined;
      return uuid === undefined ? undefined : uuidItem(uuid);
    }
    default:
      return undefined;
  }
}

function prefixRange(c: Collection, field: string | null, item: TupleItem): IndexRange {
  const begin = c.keys.index.pack([field, item]);
  return { begin, end: prefixEnd(begin), idOffset: begin.length };
}

/** Datetime entries (epoch µs, tuple integers) within `bounds`. */
function intRange(c: Collection, field: string, b: Bounds): CandidateSource {
  const lowest = b.gte !== undefined ? Math.ceil(b.gte) : b.gt !== undefined ? Math.floor(b.gt) + 1 : undefined;
  const highest = b.lte !== undefined ? Math.floor(b.lte) : b.lt !== undefined ? Math.ceil(b.lt) - 1 : undefined;
  const all = c.keys.index.range([field]);
  const safe = (n: number) => Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, n));
  const begin = lowest === undefined ? all.begin : c.keys.index.pack([field, safe(lowest)]);
  const end = highest === undefined ? all.end : prefixEnd(c.keys.index.pack([field, safe(highest)]));
  return { label: `${field} range`, ranges: lowest !== undefined && highest !== undefined && lowest > highest ? [] : [{ begin, end }] };
}

/** Float entries within `bounds`. */
function floatRange(c: Collection, field: string, b: Bounds): CandidateSource {
  const all = c.keys.index.range([field]);
  const at = (x: number) => c.keys.index.pack([field, floatItem(x)]);
  const begin = b.gte !== undefined ? at(b.gte) : b.gt !== undefined ? prefixEnd(at(b.gt)) : all.begin;
  const end = b.lte !== undefined ? prefixEnd(at(b.lte)) : b.lt !== undefined ? at(b.lt) : all.end;
  return { label: `${field} range`, ranges: [{ begin, end }] };
}
