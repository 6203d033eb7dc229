import type { PayloadPath } from '../payload-path.js';
import type { Bounds, Condition, Filter } from './types.js';
import { tokenize } from './tokenize.js';

/**
 * Which parts of a filter a payload index could answer. A planner takes candidates from an index
 * for one of these and re-checks the whole filter on each, so every hint must be a NECESSARY
 * condition: a point that passes the filter satisfies it. Only required conditions qualify: those of
 * `must` (looking into filters used as conditions there), and the `should` of a filter whose
 * `should` holds one condition. `must_not`, `except`, `is_empty` and friends never do: an index of
 * present values cannot list the points where a value is absent.
 */

/** One index-servable condition. `values` semantics are those of `valuesAt` in payload-path.ts. */
export type IndexableCondition =
  /** Some value at `key` equals `value` (a keyword, integer or bool index). */
  | { readonly key: string; readonly path: PayloadPath; readonly kind: 'value'; readonly value: string | number | boolean }
  /** Some value at `key` is one of `values`; an empty list means no point passes. */
  | { readonly key: string; readonly path: PayloadPath; readonly kind: 'any'; readonly values: readonly string[] | readonly number[] }
  /** Some value lies in `bounds`: numbers, or datetimes as epoch microseconds when `datetime`. */
  | { readonly key: string; readonly path: PayloadPath; readonly kind: 'range'; readonly bounds: Bounds; readonly datetime: boolean }
  /** Some string value holds every one of `tokens` (from `tokenize`); no tokens means no point passes. */
  | { readonly key: string; readonly path: PayloadPath; readonly kind: 'text'; readonly tokens: readonly string[] };

/**
 * The conditions of `filter` that every matching point satisfies and a payload index could serve,
 * in filter order.
 *
 * @example
 * indexableConditions(parseFilter({ must: [{ key: 'city', match: { value: 'London' } }] }))
 * // [{ key: 'city', path, kind: 'value', value: 'London' }]
 */
export function indexableConditions(filter: Filter): IndexableCondition[] {
  const out: IndexableCondition[] = [];
  const required: readonly Condition[] = filter.should.length === 1 ? [...filter.must, ...filter.should] : filter.must;
  for (const c of required) {
    switch (c.kind) {
      case 'filter':
        // Parse limits the depth to 32, so recursion here is bounded.
        out.push(...indexableConditions(c.filter));
        break;
      case 'match_value':
        out.push({ ...where(c.key), kind: 'value', value: c.value });
        break;
      case 'match_any':
        out.push({ ...where(c.key), kind: 'any', values: c.values });
        break;
      case 'range':
      case 'datetime_range':
        out.push({ ...where(c.key), kind: 'range', bounds: c.bounds, datetime: c.kind === 'datetime_range' });
        break;
      case 'match_text':
      case 'match_phrase':
        // A phrase needs all its tokens too; the re-check enforces their order.
        out.push({ ...where(c.key), kind: 'text', tokens: tokenize(c.text) });
        break;
      default:
        break;
    }
  }
  return out;
}

function where(path: PayloadPath): { key: string; path: PayloadPath } {
  return { key: path.text, path };
}
