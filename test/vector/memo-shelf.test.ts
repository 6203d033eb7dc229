import { expect, it } from 'vitest';
import { GraphMemo } from '../../layers/vector/hnsw/memo.js';
import { MemoShelf } from '../../layers/vector/memo-shelf.js';
import { VectorArena } from '../../layers/vector/wasm/arena.js';

const arena = new VectorArena();

/** A memo holding `n` vectors of 1,024 floats (4 KiB each). */
function memoOf(n: number): GraphMemo {
  const memo = new GraphMemo('Euclid', 1024, arena);
  for (let i = 0; i < n; i++) memo.setVector(memo.handle(String(i)), new Float32Array(1024).fill(i));
  return memo;
}

it('keeps memos up to the count and byte bounds, least recently used out first', () => {
  const shelf = new MemoShelf<{ memo: GraphMemo }>(3, 1 << 20);
  const [a, b, c, d] = [memoOf(1), memoOf(1), memoOf(1), memoOf(1)];
  shelf.set('a', { memo: a });
  shelf.set('b', { memo: b });
  shelf.set('c', { memo: c });
  expect(shelf.get('a')?.memo).toBe(a); // a is now the most recent
  shelf.set('d', { memo: d });
  expect(shelf.get('b')).toBeUndefined();
  expect(shelf.get('a')?.memo).toBe(a);
  expect(() => b.setVector(b.handle('new'), new Float32Array(1024))).toThrow(/after free/); // retired: its memory went back
  // Bytes: a memo of over 1 MiB pushes the others out.
  shelf.set('big', { memo: memoOf(300) });
  expect([shelf.get('a'), shelf.get('c'), shelf.get('d')]).toEqual([undefined, undefined, undefined]);
});

it('drops a memo that grew past the byte bound by itself, so its graph starts over', () => {
  const shelf = new MemoShelf<{ memo: GraphMemo }>(3, 64 * 1024);
  const memo = memoOf(1);
  shelf.set('g', { memo });
  for (let i = 1; i < 40; i++) memo.setVector(memo.handle(String(i)), new Float32Array(1024)); // grows in use
  expect(shelf.get('g')).toBeUndefined();
});

it('frees a retired memo only when the last search using it leaves', () => {
  const shelf = new MemoShelf<{ memo: GraphMemo }>(1, 1 << 20);
  const used = memoOf(1);
  shelf.set('a', { memo: used });
  used.use();
  shelf.set('b', { memo: memoOf(1) }); // evicts a while a search holds it
  used.setVector(used.handle('while in use'), new Float32Array(1024).fill(3)); // still usable
  expect(used.copyVectors([1])[0]?.[5]).toBe(3);
  used.leave();
  expect(() => used.setVector(used.handle('after'), new Float32Array(1024))).toThrow(/after free/);
});
