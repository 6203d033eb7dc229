import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DISTANCES,
  type Distance,
  dotProduct,
  higherIsBetter,
  manhattanDistance,
  normalize,
  passesThreshold,
  preprocess,
  score,
  squaredEuclidean,
} from '../../layers/vector/distance.js';

const f32 = (xs: readonly number[]): Float32Array => Float32Array.from(xs);

describe('DISTANCES', () => {
  it("lists Qdrant's four distance names", () => {
    expect(DISTANCES).toEqual(['Cosine', 'Dot', 'Euclid', 'Manhattan']);
  });
});

describe('score: golden values computed by hand', () => {
  const a = f32([1, 2, 3]);
  const b = f32([4, -5, 6]);

  it('Dot is the dot product', () => {
    // 1·4 + 2·(−5) + 3·6 = 4 − 10 + 18
    expect(score('Dot', a, b)).toBe(12);
  });

  it('Euclid is the distance, not its square', () => {
    // differences −3, 7, −3 → 9 + 49 + 9 = 67
    expect(score('Euclid', a, b)).toBe(Math.sqrt(67));
    expect(score('Euclid', f32([0, 0]), f32([3, 4]))).toBe(5);
    expect(squaredEuclidean(f32([0, 0]), f32([3, 4]))).toBe(25);
  });

  it('Manhattan is the sum of absolute differences', () => {
    expect(score('Manhattan', a, b)).toBe(3 + 7 + 3);
    expect(score('Manhattan', f32([1, -1]), f32([-2, 3]))).toBe(7);
  });

  it('Cosine is the dot product of the normalized vectors', () => {
    // [3,4]/5 · [4,3]/5 = (12 + 12) / 25
    expect(score('Cosine', preprocess('Cosine', f32([3, 4])), preprocess('Cosine', f32([4, 3])))).toBeCloseTo(0.96, 6);
    expect(score('Cosine', preprocess('Cosine', f32([1, 0])), preprocess('Cosine', f32([0, 7])))).toBe(0);
    expect(score('Cosine', preprocess('Cosine', f32([2, 0])), preprocess('Cosine', f32([-5, 0])))).toBe(-1);
  });

  it('Cosine ignores magnitude once both sides are preprocessed', () => {
    const s = score('Cosine', preprocess('Cosine', f32([1, 2, 3])), preprocess('Cosine', f32([2, 4, 6])));
    expect(s).toBeCloseTo(1, 6);
  });

  it('a vector scores 0 / its norm² / 0 / 0 against itself', () => {
    const v = f32([1, -2, 2]);
    expect(score('Dot', v, v)).toBe(9);
    expect(score('Euclid', v, v)).toBe(0);
    expect(score('Manhattan', v, v)).toBe(0);
  });

  it('rejects vectors of different lengths', () => {
    for (const d of DISTANCES) {
      expect(() => score(d, f32([1, 2]), f32([1, 2, 3]))).toThrow(RangeError);
    }
  });

  it('rejects an unknown distance name', () => {
    expect(() => score('L2' as string as Distance, f32([1]), f32([1]))).toThrow(TypeError);
    expect(() => higherIsBetter('L2' as string as Distance)).toThrow(TypeError);
  });
});

describe('unrolled kernels against a naive loop', () => {
  const naiveDot = (a: Float32Array, b: Float32Array): number => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  };
  const naiveSqEuclid = (a: Float32Array, b: Float32Array): number => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
    return s;
  };
  const naiveManhattan = (a: Float32Array, b: Float32Array): number => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
    return s;
  };
  // Each kernel with its naive twin and the absolute size of each term, which bounds the rounding
  // difference that a different summation order may introduce.
  const kernels = [
    { name: 'dotProduct', fast: dotProduct, naive: naiveDot, term: (x: number, y: number) => Math.abs(x * y) },
    { name: 'squaredEuclidean', fast: squaredEuclidean, naive: naiveSqEuclid, term: (x: number, y: number) => (x - y) ** 2 },
    { name: 'manhattanDistance', fast: manhattanDistance, naive: naiveManhattan, term: (x: number, y: number) => Math.abs(x - y) },
  ] as const;

  const pair = fc.integer({ min: 0, max: 17 }).chain((n) => {
    const element = fc.float({ min: -1000, max: 1000, noNaN: true });
    return fc.tuple(fc.array(element, { minLength: n, maxLength: n }), fc.array(element, { minLength: n, maxLength: n }));
  });

  for (const k of kernels) {
    it(`${k.name} matches the naive loop for lengths 0..17 (random floats)`, () => {
      fc.assert(
        fc.property(pair, ([xs, ys]) => {
          const a = f32(xs);
          const b = f32(ys);
          let magnitude = 0;
          for (let i = 0; i < a.length; i++) magnitude += k.term(a[i]!, b[i]!);
          expect(Math.abs(k.fast(a, b) - k.naive(a, b))).toBeLessThanOrEqual(magnitude * 1e-12);
        }),
        { seed: 20240611, numRuns: 1000 },
      );
    });

    it(`${k.name} counts every element exactly once for lengths 0..17`, () => {
      // Small integers make every sum exact, so any skipped or repeated element shows as a
      // difference; giving each position a distinct weight pins which one.
      for (let n = 0; n <= 17; n++) {
        const a = f32(Array.from({ length: n }, (_, i) => 2 ** (i % 12) * (i % 2 === 0 ? 1 : -1)));
        const b = f32(Array.from({ length: n }, (_, i) => i + 3));
        expect(k.fast(a, b), `length ${n}`).toBe(k.naive(a, b));
      }
    });
  }
});

describe('normalize (Cosine preprocessing)', () => {
  it('scales to unit length', () => {
    expect(Array.from(normalize(f32([3, 4])))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    const v = normalize(f32([1, 2, 3, 4, 5]));
    expect(dotProduct(v, v)).toBeCloseTo(1, 6);
  });

  it('returns a zero vector unchanged instead of dividing by zero, as Qdrant does', () => {
    const zero = f32([0, 0, 0, 0]);
    const out = normalize(zero);
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
    expect(out.some(Number.isNaN)).toBe(false);
    // So it scores 0 against any query rather than NaN.
    expect(score('Cosine', out, normalize(f32([1, 2, 3, 4])))).toBe(0);
  });

  it('leaves a vector with squared length below f32 epsilon unchanged', () => {
    // squared length 1e-8 < 2^-23 ≈ 1.19e-7
    expect(Array.from(normalize(f32([1e-4, 0])))).toEqual([Math.fround(1e-4), 0]);
    // squared length 4e-6 is above it, so this one is scaled
    expect(Array.from(normalize(f32([2e-3, 0])))).toEqual([1, 0]);
  });

  it('leaves an already-normalized vector bit for bit, so renormalizing is stable', () => {
    const once = normalize(f32([0.3, -1.7, 2.2, 0.01, 5, -0.4]));
    expect(Array.from(normalize(once))).toEqual(Array.from(once));
  });

  it("returns a new array and never modifies the caller's", () => {
    const v = f32([3, 4]);
    const out = normalize(v);
    expect(out).not.toBe(v);
    expect(Array.from(v)).toEqual([3, 4]);
    const unit = f32([1, 0]);
    expect(normalize(unit)).not.toBe(unit);
  });
});

describe('preprocess (stored and query vectors)', () => {
  it('normalizes for Cosine only', () => {
    const v = f32([3, 4]);
    expect(Array.from(preprocess('Cosine', v))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    for (const d of ['Dot', 'Euclid', 'Manhattan'] as const) {
      const out = preprocess(d, v);
      expect(Array.from(out)).toEqual([3, 4]);
      expect(out).not.toBe(v);
    }
  });
});

describe('ordering and score_threshold', () => {
  it('higher is better for Cosine and Dot, lower for Euclid and Manhattan', () => {
    expect(DISTANCES.map((d) => [d, higherIsBetter(d)])).toEqual([
      ['Cosine', true],
      ['Dot', true],
      ['Euclid', false],
      ['Manhattan', false],
    ]);
  });

  it('is a strict lower bound for Cosine and Dot', () => {
    for (const d of ['Cosine', 'Dot'] as const) {
      expect(passesThreshold(d, 0.51, 0.5)).toBe(true);
      expect(passesThreshold(d, 0.5, 0.5)).toBe(false);
      expect(passesThreshold(d, 0.49, 0.5)).toBe(false);
      expect(passesThreshold(d, -1, -2)).toBe(true);
    }
  });

  it('is a strict upper bound for Euclid and Manhattan', () => {
    for (const d of ['Euclid', 'Manhattan'] as const) {
      expect(passesThreshold(d, 1, 2)).toBe(true);
      expect(passesThreshold(d, 2, 2)).toBe(false);
      expect(passesThreshold(d, 3, 2)).toBe(false);
    }
  });

  it('compares the Euclid threshold with the distance, not its square', () => {
    const s = score('Euclid', f32([0, 0]), f32([3, 0]));
    // distance 3 is under 5; the squared distance 9 would not be
    expect(passesThreshold('Euclid', s, 5)).toBe(true);
    expect(passesThreshold('Euclid', s, 3.5)).toBe(true);
    expect(passesThreshold('Euclid', s, 2.9)).toBe(false);
  });
});
