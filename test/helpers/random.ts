/**
 * A seeded random source in [0, 1) (a linear congruential generator): tests that build data from it
 * see the same data on every run, so their thresholds are measured, not lucky.
 */
export function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}
