import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDatetime } from '../../../layers/record/datetime.js';
import { matchesFilter } from '../../../layers/record/filter/match.js';
import { parseFilter } from '../../../layers/record/filter/parse.js';
import { indexableConditions, type IndexableCondition } from '../../../layers/record/filter/plan-hints.js';
import { tokenize } from '../../../layers/record/filter/tokenize.js';
import type { Bounds } from '../../../layers/record/filter/types.js';
import { valuesAt } from '../../../layers/record/payload-path.js';
import { arbitraryFilter, arbitraryPayload, arbitraryPointId } from '../../helpers/filters.js';

describe('indexableConditions', () => {
  it('lists the required field conditions an index can serve', () => {
    const hints = indexableConditions(
      parseFilter({
        must: [
          { key: 'city', match: { value: 'London' } },
          { key: 'n', match: { any: [1, 2] } },
          { must: [{ key: 'price', range: { gte: 10 } }] },
          { key: 'at', range: { lt: '2020-03-01' } },
          { key: 'd', match: { text: 'Cheap food' } },
          { key: 'c', match: { except: ['x'] } },
          { is_empty: { key: 'e' } },
          { has_id: [1] },
        ],
        must_not: [{ key: 'x', match: { value: 1 } }],
        should: [{ key: 'y', match: { value: 1 } }, { key: 'z', match: { value: 2 } }],
      }),
    ).map(({ path: _path, ...rest }) => rest);
    expect(hints).toEqual([
      { key: 'city', kind: 'value', value: 'London' },
      { key: 'n', kind: 'any', values: [1, 2] },
      { key: 'price', kind: 'range', bounds: { gte: 10 }, datetime: false },
      { key: 'at', kind: 'range', bounds: { lt: Date.UTC(2020, 2, 1) * 1000 }, datetime: true },
      { key: 'd', kind: 'text', tokens: ['cheap', 'food'] },
    ]);
  });

  it('takes a lone should condition as required, but not one of several', () => {
    expect(indexableConditions(parseFilter({ should: { key: 'a', match: { value: 1 } } }))).toHaveLength(1);
    expect(indexableConditions(parseFilter({ should: [{ key: 'a', match: { value: 1 } }, { key: 'b', match: { value: 1 } }] }))).toEqual([]);
    expect(indexableConditions(parseFilter({ must_not: [{ key: 'a', match: { value: 1 } }] }))).toEqual([]);
  });

  it('gives only conditions that every matching point satisfies (seeded random filters)', () => {
    let checked = 0;
    // Broad indexable conditions on the top-level keys, mixed with random filters, and many points
    // per filter, so that matching points with hints are common.
    const key = fc.constantFrom('a', 'b', 'c', 'a[]', 'b[].c');
    const indexable = fc.oneof(
      fc.record({ key, match: fc.record({ value: fc.oneof(fc.constantFrom('x', 'y', 'x y'), fc.integer({ min: -1, max: 1 }), fc.boolean()) }) }),
      fc.record({ key, match: fc.record({ any: fc.oneof(fc.constant(['x', 'y', '']), fc.constant([0, 1, 2, 3])) }) }),
      fc.record({ key, range: fc.oneof(fc.constant({ gte: -2 }), fc.constant({ lt: 1.5 }), fc.constant({ gt: '2020-02-01', lte: '2020-03-01T00:00' })) }),
      fc.record({ key, match: fc.oneof(fc.record({ text: fc.constantFrom('x', 'X y') }), fc.record({ phrase: fc.constantFrom('y x', 'x') })) }),
    );
    const conditions = fc.array(fc.oneof({ weight: 3, arbitrary: indexable }, { weight: 1, arbitrary: arbitraryFilter }), { minLength: 1, maxLength: 3 });
    const filters = fc.record({ must: conditions, should: fc.oneof(indexable, conditions) });
    const points = fc.array(fc.record({ id: arbitraryPointId, payload: arbitraryPayload }), { minLength: 20, maxLength: 20 });
    fc.assert(
      fc.property(filters, points, (json, pts) => {
        const filter = parseFilter(json);
        const hints = indexableConditions(filter);
        for (const { id, payload } of pts) {
          if (!matchesFilter(filter, { id, payload })) continue;
          for (const hint of hints) {
            checked++;
            expect(satisfies(hint, payload), JSON.stringify({ json, payload, hint: hint.key })).toBe(true);
          }
        }
      }),
      { seed: 0x41a7, numRuns: 2000 },
    );
    expect(checked).toBeGreaterThan(100);
  });
});

/** What an index for `hint` would find for this payload: the candidate test, written plainly. */
function satisfies(hint: IndexableCondition, payload: Record<string, unknown>): boolean {
  const values = valuesAt(payload, hint.path);
  switch (hint.kind) {
    case 'value':
      return values.includes(hint.value);
    case 'any':
      return values.some((v) => (hint.values as readonly unknown[]).includes(v));
    case 'range':
      return values.some((v) => {
        const n = hint.datetime ? (typeof v === 'string' ? parseDatetime(v) : undefined) : typeof v === 'number' ? v : undefined;
        return n !== undefined && within(n, hint.bounds);
      });
    case 'text':
      return values.some((v) => typeof v === 'string' && hint.tokens.length > 0 && hint.tokens.every((t) => tokenize(v).includes(t)));
  }
}

function within(n: number, b: Bounds): boolean {
  return !(n >= (b.lt ?? Infinity)) && !(n <= (b.gt ?? -Infinity)) && n >= (b.gte ?? -Infinity) && n <= (b.lte ?? Infinity);
}
