import { KERNELS, kernelModuleBytes, type Kernel } from './module.js';

/**
 * One WebAssembly memory per process for decoded vectors, with the SIMD distance kernels over it
 * (see module.ts). Memos take it in chunks of whole pages and give them back when they are done;
 * one shared memory rather than one per memo, because every 32-bit wasm memory reserves several
 * GiB of address space and V8 caps the total.
 *
 * Offsets are in floats, and the memory stops at 2 GiB, so every offset is a small integer.
 */

const PAGE_BYTES = 65_536;
const MAX_PAGES = 32_768;

type KernelFn = (a: number, b: number, n: number) => number;
type BatchFn = (q: number, slots: number, count: number, out: number, n: number) => void;

/** How many distances one batch call computes at most. */
export const BATCH = 8192;

export class VectorArena {
  readonly #memory: WebAssembly.Memory;
  readonly kernels: Readonly<Record<Kernel, KernelFn>>;
  /** The batch forms (`NAME_many`), reading slots from `batchSlots` and writing to `batchOut`. */
  readonly batches: Readonly<Record<Kernel, BatchFn>>;
  /** Offsets (4-byte units) of the batch calls' slot list and results: one page, set aside. */
  readonly batchSlots: number;
  readonly batchOut: number;
  #f32: Float32Array;
  #i32: Int32Array;
  #u8: Uint8Array;
  /** Pages given out so far (the rest of the memory is untouched). */
  #top = 0;
  /** Chunks given back, by their size in pages. */
  readonly #free = new Map<number, number[]>();

  constructor() {
    this.#memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(kernelModuleBytes()), { env: { memory: this.#memory } });
    this.kernels = Object.fromEntries(KERNELS.map(k => [k, instance.exports[k] as KernelFn])) as Record<Kernel, KernelFn>;
    this.batches = Object.fromEntries(KERNELS.map(k => [k, instance.exports[`${k}_many`] as BatchFn])) as Record<Kernel, BatchFn>;
    this.#f32 = new Float32Array(this.#memory.buffer);
    this.#i32 = new Int32Array(this.#memory.buffer);
    this.#u8 = new Uint8Array(this.#memory.buffer);
    this.batchSlots = this.allocate((BATCH * 8) / PAGE_BYTES);
    this.batchOut = this.batchSlots + BATCH;
  }

  /** The memory as 32-bit integers (a new view after the memory grows). */
  get i32(): Int32Array {
    return this.#i32;
  }

  /** The memory as floats (a new view after the memory grows: do not keep it across awaits). */
  get f32(): Float32Array {
    return this.#f32;
  }

  get u8(): Uint8Array {
    return this.#u8;
  }

  /** A chunk of `pages` pages; returns its first float's offset. */
  allocate(pages: number): number {
    const reused = this.#free.get(pages)?.pop();
    if (reused !== undefined) return reused;
    const first = this.#top;
    const needed = first + pages - this.#memory.buffer.byteLength / PAGE_BYTES;
    if (needed > 0) {
      const current = this.#memory.buffer.byteLength / PAGE_BYTES;
      const grow = Math.min(Math.max(needed, current >> 1), MAX_PAGES - current);
      if (grow < needed) throw new RangeError('the vector cache memory is full (2 GiB): lower the cache bounds');
      this.#memory.grow(grow);
      this.#f32 = new Float32Array(this.#memory.buffer);
      this.#i32 = new Int32Array(this.#memory.buffer);
      this.#u8 = new Uint8Array(this.#memory.buffer);
    }
    this.#top += pages;
    return (first * PAGE_BYTES) / 4;
  }

  /** Give back a chunk that `allocate(pages)` returned. */
  release(offset: number, pages: number): void {
    let list = this.#free.get(pages);
    if (list === undefined) this.#free.set(pages, (list = []));
    list.push(offset);
  }
}

let shared: VectorArena | undefined;

/** The process's arena. */
export function sharedArena(): VectorArena {
  shared ??= new VectorArena();
  return shared;
}

export { PAGE_BYTES };
