import type { Condition, Filter } from './filter/types.js';
import { conditionCount } from './filter/parse.js';
import type { IndexSchema, IndexType } from './index-schema.js';
import { checkAllowed, checkLimit, strictModeError, type StrictModeConfig } from './strict-mode.js';

/**
 * Strict mode's checks on requests: limits, search parameters, and on filters how many conditions,
 * how large one may be, and (where the collection asks for it) that every field a filter tests has
 * a payload index that can answer it.
 */

/** The largest input of one condition: the values of `any`/`except`, the ids of `has_id`. */
export function maxConditionSize(filter: Filter): number {
  let max = 0;
  for (const c of conditionsOf(filter)) {
    if (c.kind === 'match_any' || c.kind === 'match_except') max = Math.max(max, c.values.length);
    else if (c.kind === 'has_id') max = Math.max(max, c.ids.size);
    else if (c.kind === 'filter' || c.kind === 'nested') max = Math.max(max, maxConditionSize(c.filter));
  }
  return max;
}

function conditionsOf(f: Filter): Condition[] {
  return [...f.must, ...f.should, ...f.mustNot, ...(f.minShould?.conditions ?? [])];
}

/** The index types that can answer a condition; undefined when it needs none. */
function typesFor(c: Condition): readonly IndexType[] | undefined {
  switch (c.kind) {
    case 'match_value':
      return typeof c.value === 'string' ? ['keyword', 'uuid'] : typeof c.value === 'number' ? ['integer'] : ['bool'];
    case 'match_any':
    case 'match_except':
      return typeof c.values[0] === 'number' ? ['integer'] : ['keyword', 'uuid'];
    case 'match_text':
    case 'match_text_any':
    case 'match_phrase':
      return ['text'];
    case 'match_prefix':
      return ['keyword'];
    case 'range':
      return ['integer', 'float'];
    case 'datetime_range':
      return ['datetime'];
    default:
      // values_count, is_empty, is_null and has_id are answered from the record itself.
      return undefined;
  }
}

/** The first field a filter tests without a suitable index, with the types that would serve. */
export function unindexedKey(filter: Filter, indexes: Readonly<Record<string, IndexSchema>>, prefix = ''): { key: string; types: readonly IndexType[] } | undefined {
  for (const c of conditionsOf(filter)) {
    if (c.kind === 'filter') {
      const inner = unindexedKey(c.filter, indexes, prefix);
      if (inner !== undefined) return inner;
      continue;
    }
    if (c.kind === 'nested') {
      const inner = unindexedKey(c.filter, indexes, `${prefix}${c.key.text}[].`);
      if (inner !== undefined) return inner;
      continue;
    }
    const types = typesFor(c);
    if (types === undefined || !('key' in c)) continue;
    const key = `${prefix}${c.key.text}`;
    const schema = Object.hasOwn(indexes, key) ? indexes[key] : undefined;
    if (schema === undefined || schema.building === true || !types.includes(schema.type)) return { key, types };
  }
  return undefined;
}

/**
 * Qdrant's filter checks: condition count and size, then (when `allowUnindexed` is false) an index
 * for every tested field.
 */
export function checkFilter(filter: Filter | undefined, strict: StrictModeConfig, indexes: Readonly<Record<string, IndexSchema>>, allowUnindexed: boolean | undefined): void {
  if (filter === undefined) return;
  const conditions = conditionCount(filter);
  if (strict.filter_max_conditions !== undefined && conditions > strict.filter_max_conditions) {
    throw strictModeError(`Filter condition limit reached (${conditions} > ${strict.filter_max_conditions})`, 'Reduce the amount of conditions of your filter.', {
      name: 'filter_max_conditions',
      value: conditions,
      limit: strict.filter_max_conditions,
    });
  }
  const size = maxConditionSize(filter);
  if (strict.condition_max_size !== undefined && size > strict.condition_max_size) {
    throw strictModeError(`Condition size limit reached (${size} > ${strict.condition_max_size})`, 'Reduce the size of your condition.', {
      name: 'condition_max_size',
      value: size,
      limit: strict.condition_max_size,
    });
  }
  if (allowUnindexed === false) {
    const missing = unindexedKey(filter, indexes);
    if (missing !== undefined) {
      throw strictModeError(
        `Index required but not found for "${missing.key}" of one of the following types: [${[...missing.types].sort().join(', ')}]`,
        'Create an index for this key or use a different filter.',
        { name: 'unindexed_filtering', key: missing.key },
      );
    }
  }
}

/** What a read asks for, as strict mode weighs it. */
export interface ReadRequest {
  readonly limit?: number | undefined;
  readonly filter?: Filter | undefined;
  readonly hnswEf?: number | undefined;
  readonly exact?: boolean | undefined;
}

/** Strict mode's checks on a read (search, query, scroll, count) of `c`; nothing when it is off. */
export function checkRead(strict: StrictModeConfig | undefined, indexes: Readonly<Record<string, IndexSchema>>, request: ReadRequest): void {
  if (strict === undefined) return;
  checkLimit(request.limit, strict.max_query_limit, 'limit');
  checkFilter(request.filter, strict, indexes, strict.unindexed_filtering_retrieve);
  checkAllowed(request.exact, strict.search_allow_exact, 'Exact search', 'exact');
  checkLimit(request.hnswEf, strict.search_max_hnsw_ef, 'hnsw_ef');
}

/** Strict mode's checks on a write that selects points by filter (delete, payload and vector updates). */
export function checkUpdateFilter(strict: StrictModeConfig | undefined, indexes: Readonly<Record<string, IndexSchema>>, filter: Filter | undefined): void {
  if (strict === undefined) return;
  checkFilter(filter, strict, indexes, strict.unindexed_filtering_update);
}

/** The rate cost of a read, as Qdrant counts it: 1, plus 1 for each condition of its filter. */
export function readCost(filter: Filter | undefined): number {
  return 1 + (filter === undefined ? 0 : conditionCount(filter));
}
