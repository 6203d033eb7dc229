/**
 * Distance kernels in WebAssembly with 128-bit SIMD (Node 20's V8 runs it), assembled here from
 * their opcodes: no toolchain at build time, no native addon. Each kernel takes two vectors in the
 * module's memory (offsets in floats) and their length in floats, a multiple of 16, and returns a
 * float32. Four accumulators of four lanes each keep the loop throughput-bound. Measured on this
 * machine: 128 dimensions 17-23 ns against 90-100 ns for the JavaScript loop, 784 dimensions
 * 72 ns against 650 ns.
 *
 * The encoding follows the WebAssembly core specification (binary format, chapter 5) and the
 * fixed-width SIMD proposal's opcode table.
 */

/** The kernels, in export order; each also comes as `NAME_many` (see `batchBody`). */
export const KERNELS = ['l2', 'dot', 'l1'] as const;
export type Kernel = (typeof KERNELS)[number];

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};

/** Signed LEB128 (what `i32.const` takes: 64 needs two bytes, as its bit 6 would read as a sign). */
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (local: number) => [0x20, local],
  set: (local: number) => [0x21, local],
  tee: (local: number) => [0x22, local],
  i32Const: (n: number) => [0x41, ...sleb(n)],
  i32Shl: [0x74],
  i32Load: [0x28, 2, 0], // align 2^2, offset 0
  f32Store: [0x38, 2, 0],
  call: (fn: number) => [0x10, ...uleb(fn)],
  i32Add: [0x6a],
  i32GeU: [0x4f],
  f32Add: [0x92],
  simd: (code: number) => [0xfd, ...uleb(code)],
};
const v128Load = (offset: number) => [...op.simd(0x00), 4, ...uleb(offset)]; // align 2^4, byte offset
const f32x4 = { abs: op.simd(0xe0), add: op.simd(0xe4), sub: op.simd(0xe5), mul: op.simd(0xe6), lane: (i: number) => [...op.simd(0x1f), i] };

// Locals: 0 a, 1 b (byte addresses once scaled), 2 n, 3 end, 4-7 accumulators, 8 difference.
const [A, B, N, END, ACC, DIFF] = [0, 1, 2, 3, 4, 8];

/** acc += term(a[off..off+4], b[off..off+4]) */
function step(kernel: Kernel, acc: number, offset: number): number[] {
  const pair = [...op.get(A), ...v128Load(offset), ...op.get(B), ...v128Load(offset)];
  const term =
    kernel === 'dot'
      ? [...pair, ...f32x4.mul]
      : kernel === 'l2'
        ? [...pair, ...f32x4.sub, ...op.tee(DIFF), ...op.get(DIFF), ...f32x4.mul]
        : [...pair, ...f32x4.sub, ...f32x4.abs];
  return [...op.get(acc), ...term, ...f32x4.add, ...op.set(acc)];
}

function body(kernel: Kernel): number[] {
  const toBytes = (local: number) => [...op.get(local), ...op.i32Const(2), ...op.i32Shl, ...op.set(local)];
  const advance = (local: number) => [...op.get(local), ...op.i32Const(64), ...op.i32Add, ...op.set(local)];
  const code = [
    ...toBytes(A),
    ...toBytes(B),
    ...op.get(A), ...op.get(N), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(END),
    ...op.block, ...op.loop,
    ...op.get(A), ...op.get(END), ...op.i32GeU, ...op.brIf(1),
    ...step(kernel, ACC, 0), ...step(kernel, ACC + 1, 16), ...step(kernel, ACC + 2, 32), ...step(kernel, ACC + 3, 48),
    ...advance(A), ...advance(B),
    ...op.br(0), ...op.end, ...op.end,
    // Sum the accumulators, then the four lanes.
    ...op.get(ACC), ...op.get(ACC + 1), ...f32x4.add, ...op.get(ACC + 2), ...op.get(ACC + 3), ...f32x4.add, ...f32x4.add, ...op.set(ACC),
    ...op.get(ACC), ...f32x4.lane(0), ...op.get(ACC), ...f32x4.lane(1), ...op.f32Add,
    ...op.get(ACC), ...f32x4.lane(2), ...op.get(ACC), ...f32x4.lane(3), ...op.f32Add, ...op.f32Add,
    ...op.end,
  ];
  const locals = [2, 1, I32, 5, V128]; // two groups: one i32 (end), five v128
  return withSize([...locals, ...code]);
}

/**
 * `NAME_many(q, slots, count, out, n)`: `out[i] = NAME(q, slots[i], n)` for i < count, where `slots`
 * and `out` are offsets (in 4-byte units) of an i32 and an f32 array in the memory. One call from
 * JavaScript per search step instead of one per neighbour.
 */
function batchBody(kernelIndex: number): number[] {
  const [Q, SLOTS, COUNT, OUT, LEN, I] = [0, 1, 2, 3, 4, 5];
  const toBytes = (local: number) => [...op.get(local), ...op.i32Const(2), ...op.i32Shl, ...op.set(local)];
  const add = (local: number, n: number) => [...op.get(local), ...op.i32Const(n), ...op.i32Add, ...op.set(local)];
  const code = [
    ...toBytes(SLOTS),
    ...toBytes(OUT),
    ...op.block, ...op.loop,
    ...op.get(I), ...op.get(COUNT), ...op.i32GeU, ...op.brIf(1),
    ...op.get(OUT),
    ...op.get(Q), ...op.get(SLOTS), ...op.i32Load, ...op.get(LEN), ...op.call(kernelIndex),
    ...op.f32Store,
    ...add(SLOTS, 4), ...add(OUT, 4), ...add(I, 1),
    ...op.br(0), ...op.end, ...op.end,
    ...op.end,
  ];
  return withSize([1, 1, I32, ...code]); // one local group: the counter
}

const withSize = (bytes: number[]) => [...uleb(bytes.length), ...bytes];
const section = (id: number, bytes: number[]) => [id, ...withSize(bytes)];
const name = (s: string) => withSize([...Buffer.from(s, 'utf8')]);

/** The module's bytes: it imports its memory as `env.memory` and exports the kernels. */
export function kernelModuleBytes(): Uint8Array {
  const names = [...KERNELS, ...KERNELS.map(k => `${k}_many`)];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version 1
    // Two types: (i32, i32, i32) → f32 for a kernel, (i32 × 5) → () for its batch form.
    ...section(1, [2, 0x60, 3, I32, I32, I32, 1, F32, 0x60, 5, I32, I32, I32, I32, I32, 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]), // memory, at least one page
    ...section(3, [names.length, ...KERNELS.map(() => 0), ...KERNELS.map(() => 1)]),
    ...section(7, [names.length, ...names.flatMap((k, i) => [...name(k), 0x00, i])]),
    ...section(10, [names.length, ...KERNELS.flatMap(body), ...KERNELS.map((_, i) => batchBody(i)).flat()]),
  ]);
}
