import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dotProduct, manhattanDistance, squaredEuclidean } from '../../layers/vector/distance.js';
import { GraphMemo } from '../../layers/vector/hnsw/memo.js';
import { VectorArena } from '../../layers/vector/wasm/arena.js';
import { VectorSlab } from '../../layers/vector/wasm/slab.js';
import { seeded } from '../helpers/random.js';

const f32 = fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true });

describe('SIMD distance kernels (WebAssembly)', () => {
  it('agree with the JavaScript kernels for every length, padding included', () => {
    const arena = new VectorArena();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }).chain(n => fc.tuple(fc.array(f32, { minLength: n, maxLength: n }), fc.array(f32, { minLength: n, maxLength: n }))), ([xs, ys]) => {
        const a = Float32Array.from(xs);
        const b = Float32Array.from(ys);
        const slab = new VectorSlab(arena, a.length);
        const [sa, sb] = [slab.slot(), slab.slot()];
        slab.write(sa, a);
        slab.write(sb, b);
        const { l2, dot, l1 } = arena.kernels;
        // float32 accumulation against the JS kernels' float64: equal to float32 precision.
        const close = (x: number, y: number, scale: number) => expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-4 * scale + 1e-3);
        const magnitude = xs.reduce((s, x, i) => s + Math.abs(x) * (1 + Math.abs(ys[i] as number)), 0);
        close(l2(sa, sb, slab.stride), squaredEuclidean(a, b), squaredEuclidean(a, b) + magnitude);
        close(dot(sa, sb, slab.stride), dotProduct(a, b), magnitude);
        close(l1(sa, sb, slab.stride), manhattanDistance(a, b), magnitude);
        slab.free();
      }),
      { numRuns: 300 },
    );
  });

  it('zero the padding of a reused slot, so an old vector never leaks into a distance', () => {
    const arena = new VectorArena();
    const wide = new VectorSlab(arena, 16);
    const slot = wide.slot();
    wide.write(slot, new Float32Array(16).fill(7));
    wide.free();
    const narrow = new VectorSlab(arena, 3); // the same page comes back, padded to 16 floats
    const [a, b] = [narrow.slot(), narrow.slot()];
    narrow.write(a, Float32Array.of(1, 2, 3));
    narrow.write(b, Float32Array.of(0, 0, 0));
    expect(arena.kernels.l2(a, b, narrow.stride)).toBe(14);
  });

  it('keep vectors and kernels working as the memory grows', () => {
    const arena = new VectorArena();
    const slab = new VectorSlab(arena, 784);
    const first = slab.slot();
    slab.write(first, new Float32Array(784).fill(0.5));
    for (let i = 0; i < 2000; i++) slab.write(slab.slot(), new Float32Array(784).fill(i)); // ~6 MB: several grows
    expect(slab.readMany([first])[0]?.[783]).toBe(0.5);
    const zero = slab.slot();
    slab.write(zero, new Float32Array(784));
    expect(arena.kernels.l2(first, zero, slab.stride)).toBe(784 * 0.25);
  });

  it('rank a batch exactly as one call each, for every distance', () => {
    const rand = seeded(3);
    for (const distance of ['Euclid', 'Dot', 'Cosine', 'Manhattan'] as const) {
      const memo = new GraphMemo(distance, 37, new VectorArena());
      const handles = Array.from({ length: 50 }, (_, i) => memo.handle(`n${i}`));
      for (const h of handles) memo.setVector(h, Float32Array.from({ length: 37 }, () => rand() * 4 - 2));
      const q = memo.slots[handles[0] as number] as number;
      const many = Array.from(memo.rankMany(q, handles, handles.length));
      expect(many).toEqual(handles.map(h => memo.rank(q, memo.slots[h] as number)));
    }
  });

  it('rank as HNSW needs: lower is closer, a negated dot product for Dot and Cosine', () => {
    const memo = new GraphMemo('Dot', 2, new VectorArena());
    const [q, near, far] = [memo.handle('q'), memo.handle('near'), memo.handle('far')];
    memo.setVector(q, Float32Array.of(1, 0));
    memo.setVector(near, Float32Array.of(2, 0));
    memo.setVector(far, Float32Array.of(0, 2));
    const slot = (h: number) => memo.slots[h] as number;
    expect(memo.rank(slot(q), slot(near))).toBe(-2);
    expect(memo.rank(slot(q), slot(near))).toBeLessThan(memo.rank(slot(q), slot(far)));
  });
});
