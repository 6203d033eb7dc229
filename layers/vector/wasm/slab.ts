import { PAGE_BYTES, type VectorArena } from './arena.js';

/**
 * The vectors of one memo, in slots of the arena: each slot holds one vector padded with zeros to
 * a multiple of 16 floats (what the kernels step by). Slots are taken from chunks of whole pages;
 * `free` gives every chunk back at once, and a memo dropped without `free` gives them back when it
 * is garbage-collected.
 */
export class VectorSlab {
  readonly arena: VectorArena;
  readonly dim: number;
  /** Floats per slot. */
  readonly stride: number;
  readonly #pagesPerChunk: number;
  readonly #slotsPerChunk: number;
  readonly #chunks: number[] = [];
  #used: number;
  readonly #spare: number[] = [];
  #freed = false;

  constructor(arena: VectorArena, dim: number) {
    this.arena = arena;
    this.dim = dim;
    this.stride = Math.ceil(dim / 16) * 16;
    this.#pagesPerChunk = Math.ceil((this.stride * 4 * 16) / PAGE_BYTES);
    this.#slotsPerChunk = Math.floor((this.#pagesPerChunk * PAGE_BYTES) / (this.stride * 4));
    this.#used = this.#slotsPerChunk;
    slabs.register(this, { arena, chunks: this.#chunks, pages: this.#pagesPerChunk }, this);
  }

  /** Bytes held in the arena. */
  get bytes(): number {
    return this.#chunks.length * this.#pagesPerChunk * PAGE_BYTES;
  }

  /** A fresh slot (give it back with `spare` if it is scratch). */
  slot(): number {
    if (this.#freed) throw new Error('slab used after free');
    const reused = this.#spare.pop();
    if (reused !== undefined) return reused;
    if (this.#used === this.#slotsPerChunk) {
      this.#chunks.push(this.arena.allocate(this.#pagesPerChunk));
      this.#used = 0;
    }
    return (this.#chunks[this.#chunks.length - 1] as number) + this.stride * this.#used++;
  }

  /** Hand back a slot for reuse. */
  spare(slot: number): void {
    this.#spare.push(slot);
  }

  /** Write `v` (length `dim`) into `slot`, zero-padded. */
  write(slot: number, v: Float32Array): void {
    const f32 = this.arena.f32;
    f32.set(v, slot);
    f32.fill(0, slot + v.length, slot + this.stride);
  }

  /** Write a stored vector (little-endian float32 bytes) into `slot`, zero-padded. */
  writeBytes(slot: number, bytes: Uint8Array): void {
    if (!LITTLE_ENDIAN) throw new Error('big-endian hosts are not supported');
    this.arena.u8.set(bytes, slot * 4);
    this.arena.f32.fill(0, slot + (bytes.byteLength >>> 2), slot + this.stride);
  }

  /** Copies of the vectors in `slots`, sharing one buffer (one allocation instead of one each). */
  readMany(slots: readonly number[]): Float32Array[] {
    const out = new Float32Array(slots.length * this.dim);
    const f32 = this.arena.f32;
    return slots.map((slot, i) => {
      const v = out.subarray(i * this.dim, (i + 1) * this.dim);
      v.set(f32.subarray(slot, slot + this.dim));
      return v;
    });
  }

  /** Give every chunk back to the arena; the slab must not be used after. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    slabs.unregister(this);
    for (const c of this.#chunks.splice(0)) this.arena.release(c, this.#pagesPerChunk);
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

const slabs = new FinalizationRegistry<{ arena: VectorArena; chunks: number[]; pages: number }>(({ arena, chunks, pages }) => {
  for (const c of chunks) arena.release(c, pages);
});
