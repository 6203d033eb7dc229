import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopK } from '../../layers/vector/top-k.js';

interface Candidate {
  readonly score: number;
  readonly seq: number;
  readonly id: string;
}

/** The reference: sort everything by score (in the distance's direction), then seq, and cut. */
function bySorting(candidates: readonly Candidate[], k: number, higherIsBetter: boolean): Array<{ score: number; item: string }> {
  return [...candidates]
    .sort((x, y) => {
      if (x.score !== y.score) return higherIsBetter ? y.score - x.score : x.score - y.score;
      return x.seq - y.seq;
    })
    .slice(0, k)
    .map((c) => ({ score: c.score, item: c.id }));
}

function select(candidates: readonly Candidate[], k: number, higherIsBetter: boolean): Array<{ score: number; item: string }> {
  const top = new TopK<string>(k, higherIsBetter);
  for (const c of candidates) top.push(c.score, c.id, c.seq);
  return top.results().map((r) => ({ score: r.score, item: r.item }));
}

describe('TopK', () => {
  // Scores from a small set force many ties; seqs are unique, pushed in a shuffled order so the
  // result cannot depend on push order.
  const candidates = fc
    .array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true })), { maxLength: 60 })
    .chain((scores) =>
      fc.shuffledSubarray(
        scores.map((score, seq) => ({ score, seq, id: `p${seq}` })),
        { minLength: scores.length, maxLength: scores.length },
      ),
    );

  it('selects what sorting the whole array selects, in the same order', () => {
    fc.assert(
      fc.property(candidates, fc.integer({ min: 0, max: 70 }), fc.boolean(), (cs, k, higherIsBetter) => {
        const got = select(cs, k, higherIsBetter);
        expect(got).toEqual(bySorting(cs, k, higherIsBetter));
        expect(got.length).toBe(Math.min(k, cs.length));
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it('orders best first: descending for higher-is-better, ascending otherwise', () => {
    const cs = [3, 1, 4, 1, 5, 9, 2, 6].map((score, seq) => ({ score, seq, id: `p${seq}` }));
    expect(select(cs, 3, true).map((r) => r.score)).toEqual([9, 6, 5]);
    expect(select(cs, 3, false).map((r) => r.score)).toEqual([1, 1, 2]);
  });

  it('breaks ties by the lower sequence number, whatever the push order', () => {
    const top = new TopK<string>(3, true);
    for (const seq of [9, 4, 7, 1, 8, 2]) top.push(0.5, `s${seq}`, seq);
    expect(top.results().map((r) => r.item)).toEqual(['s1', 's2', 's4']);

    const low = new TopK<string>(2, false);
    for (const seq of [5, 3, 6]) low.push(1, `s${seq}`, seq);
    low.push(0.25, 's9', 9);
    expect(low.results().map((r) => r.item)).toEqual(['s9', 's3']);
  });

  it('returns scores exactly as pushed, in both directions', () => {
    for (const higherIsBetter of [true, false]) {
      const top = new TopK<number>(4, higherIsBetter);
      const scores = [0.1 + 0.2, -0, 1e-300, -Infinity];
      scores.forEach((s, i) => top.push(s, i, i));
      const got = top.results();
      for (const r of got) expect(Object.is(r.score, scores[r.item])).toBe(true);
    }
  });

  it('supports k = limit + offset with the caller slicing off the offset', () => {
    const top = new TopK<string>(2 + 3, true);
    for (let seq = 0; seq < 10; seq++) top.push(seq, `p${seq}`, seq);
    expect(top.results().slice(3).map((r) => r.item)).toEqual(['p6', 'p5']);
  });

  it('keeps nothing when k is 0', () => {
    const top = new TopK<string>(0, true);
    top.push(1, 'a', 0);
    expect(top.size).toBe(0);
    expect(top.results()).toEqual([]);
  });

  it('can report results and keep selecting', () => {
    const top = new TopK<string>(2, true);
    top.push(1, 'a', 0);
    top.push(2, 'b', 1);
    expect(top.results().map((r) => r.item)).toEqual(['b', 'a']);
    expect(top.results().map((r) => r.item)).toEqual(['b', 'a']);
    top.push(3, 'c', 2);
    expect(top.results().map((r) => r.item)).toEqual(['c', 'b']);
    expect(top.size).toBe(2);
  });

  it('rejects a bad k and NaN scores', () => {
    expect(() => new TopK<string>(-1, true)).toThrow(RangeError);
    expect(() => new TopK<string>(1.5, true)).toThrow(RangeError);
    expect(() => new TopK<string>(Number.NaN, true)).toThrow(RangeError);
    const top = new TopK<string>(2, true);
    expect(() => top.push(Number.NaN, 'a', 0)).toThrow(RangeError);
    expect(() => top.push(1, 'a', Number.NaN)).toThrow(RangeError);
    expect(top.size).toBe(0);
  });
});
