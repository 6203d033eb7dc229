import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../../layers/record/filter/match.js';
import { parseFilter } from '../../../layers/record/filter/parse.js';
import { arbitraryFieldCondition, arbitraryFilter, arbitraryPayload, arbitraryPointId, referenceMatches } from '../../helpers/filters.js';

const points = fc.array(fc.record({ id: arbitraryPointId, payload: arbitraryPayload }), { minLength: 1, maxLength: 8 });

describe('matchesFilter against the reference evaluator', () => {
  it('agrees on random filters over the whole grammar and random payloads (seeded)', () => {
    const outcomes = { true: 0, false: 0 };
    fc.assert(
      fc.property(arbitraryFilter, points, (filter, pts) => {
        const parsed = parseFilter(filter);
        for (const p of pts) {
          const expected = referenceMatches(filter, p);
          outcomes[`${expected}`]++;
          expect(matchesFilter(parsed, p), JSON.stringify({ filter, point: p })).toBe(expected);
        }
      }),
      { seed: 0x5747a, numRuns: 3000 },
    );
    // A generator that made (almost) every filter pass or fail would make the comparison vacuous.
    expect(outcomes.true).toBeGreaterThan(300);
    expect(outcomes.false).toBeGreaterThan(300);
  });

  it('agrees on single field conditions, where each test decides the outcome alone', () => {
    const outcomes = { true: 0, false: 0 };
    const single = arbitraryFilter.filter((f) => Array.isArray(f['must']) && f['must'].length > 0).map((f) => ({ must: f['must'] }));
    fc.assert(
      fc.property(single, points, (filter, pts) => {
        const parsed = parseFilter(filter);
        for (const p of pts) {
          const expected = referenceMatches(filter, p);
          outcomes[`${expected}`]++;
          expect(matchesFilter(parsed, p), JSON.stringify({ filter, point: p })).toBe(expected);
        }
      }),
      { seed: 0xf11e7, numRuns: 2000 },
    );
    expect(outcomes.true).toBeGreaterThan(100);
  });

  it('agrees on each field condition alone, over many payloads', () => {
    const outcomes = { true: 0, false: 0 };
    const many = fc.array(fc.record({ id: arbitraryPointId, payload: arbitraryPayload }), { minLength: 30, maxLength: 30 });
    fc.assert(
      fc.property(arbitraryFieldCondition, many, (condition, pts) => {
        const filter = { must: [condition] };
        const parsed = parseFilter(filter);
        for (const p of pts) {
          const expected = referenceMatches(filter, p);
          outcomes[`${expected}`]++;
          expect(matchesFilter(parsed, p), JSON.stringify({ condition, point: p })).toBe(expected);
        }
      }),
      { seed: 0xc0de, numRuns: 2000 },
    );
    expect(outcomes.true).toBeGreaterThan(2000);
    expect(outcomes.false).toBeGreaterThan(2000);
  });
});
