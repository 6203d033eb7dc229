import type { Distance } from '../distance.js';
import { BATCH, sharedArena, type VectorArena } from '../wasm/arena.js';
import { VectorSlab } from '../wasm/slab.js';
import type { NodeId } from './graph.js';

/** In `GraphMemo.slots`: the vector has not been read yet. */
export const UNREAD = -1;
/** In `GraphMemo.slots`: the node's point has no vector (it was removed). */
export const NO_VECTOR = -2;

/** Ranks two vectors by their slots: lower is closer. */
export type Rank = (a: number, b: number) => number;

/**
 * The in-memory side of a graph: nodes numbered by small integer handles, with their decoded
 * vectors and neighbour lists as far as they have been read. A search walks the graph through
 * these arrays and reads the store only for what is missing, so with a warm memo a query is plain
 * array work. A memo is valid for one state of the graph and of the vectors: its owner (the search
 * cache, or the indexer) decides when it must start afresh.
 *
 * Vectors live in slots of the WebAssembly arena and are ranked there by the SIMD kernels: on the
 * ground layer a search's time goes to distances, which run five to nine times faster there.
 */
export class GraphMemo {
  readonly slab: VectorSlab;
  /** The distance searches rank by, over slots: lower is closer (a negated dot product for Cosine and Dot). */
  readonly rank: Rank;
  readonly #arena: VectorArena;
  readonly #many: (q: number, slots: number, count: number, out: number, n: number) => void;
  /** -1 when the kernel's value is a similarity (dot): ranks are its negation. */
  readonly #sign: 1 | -1;
  #users = 0;
  #retired = false;
  readonly #handles = new Map<NodeId, number>();
  /** handle → node id */
  readonly ids: NodeId[] = [];
  /** handle → node id bytes (for keys) */
  readonly idBytes: Buffer[] = [];
  /** handle → its entry in a stored neighbour list: u16 big-endian length + id bytes */
  readonly listEntries: Uint8Array[] = [];
  /** handle → the slot of its vector, or UNREAD, or NO_VECTOR (typed: read on every step of a search) */
  #slots = new Int32Array(256).fill(UNREAD);
  /** handle → the node's top level in this graph: undefined while not read, null when not in it */
  readonly levels: (number | null | undefined)[] = [];
  /** level → handle → neighbour handles, undefined while not read */
  readonly lists: (number[] | undefined)[][] = [];
  readonly #marks: VisitedMarks[] = [];

  constructor(distance: Distance, dim: number, arena: VectorArena = sharedArena()) {
    this.slab = new VectorSlab(arena, dim);
    this.#arena = arena;
    const n = this.slab.stride;
    const { l2, dot, l1 } = arena.kernels;
    switch (distance) {
      case 'Cosine':
      case 'Dot':
        this.rank = (a, b) => -dot(a, b, n);
        this.#many = arena.batches.dot;
        this.#sign = -1;
        break;
      case 'Euclid':
        this.rank = (a, b) => l2(a, b, n);
        this.#many = arena.batches.l2;
        this.#sign = 1;
        break;
      case 'Manhattan':
        this.rank = (a, b) => l1(a, b, n);
        this.#many = arena.batches.l1;
        this.#sign = 1;
        break;
    }
  }

  /**
   * The ranks from slot `query` to the vectors of `handles[0 … count)` (each must have one), in
   * one call into the kernels. The result is a view into the arena: read it before anything else
   * runs (the next batch, or the memory growing, replaces it).
   */
  rankMany(query: number, handles: readonly number[], count: number): Float32Array {
    if (count > BATCH) {
      // More than the batch area holds (only a very large m does this): in pieces, into a copy.
      const out = new Float32Array(count);
      for (let at = 0; at < count; at += BATCH) out.set(this.rankMany(query, handles.slice(at, at + BATCH), Math.min(BATCH, count - at)), at);
      return out;
    }
    const arena = this.#arena;
    const slots = this.#slots;
    const list = arena.i32;
    const at = arena.batchSlots;
    for (let i = 0; i < count; i++) list[at + i] = slots[handles[i] as number] as number;
    this.#many(query, at, count, arena.batchOut, this.slab.stride);
    const out = arena.f32.subarray(arena.batchOut, arena.batchOut + count);
    if (this.#sign === -1) for (let i = 0; i < count; i++) out[i] = -(out[i] as number);
    return out;
  }

  /**
   * handle → the slot of its vector, UNREAD or NO_VECTOR. The array is replaced when it grows (as
   * new nodes get handles): read it again after waiting on anything.
   */
  get slots(): Int32Array {
    return this.#slots;
  }

  /** Set the vector of `h` as it is now (null: the point has none), reusing its slot. */
  setVector(h: number, v: Float32Array | null): void {
    if (v === null) this.#drop(h);
    else this.slab.write(this.#slotOf(h), v);
  }

  /** Set the vector of `h` from its stored bytes (undefined: the point has none). */
  setVectorBytes(h: number, bytes: Uint8Array | undefined): void {
    if (bytes === undefined) this.#drop(h);
    else this.slab.writeBytes(this.#slotOf(h), bytes);
  }

  /** The node has no vector (any more): its slot goes back for reuse. */
  #drop(h: number): void {
    const held = this.#slots[h] as number;
    if (held >= 0) this.slab.spare(held);
    this.#slots[h] = NO_VECTOR;
  }

  #slotOf(h: number): number {
    const held = this.#slots[h] as number;
    if (held >= 0) return held;
    const slot = this.slab.slot();
    this.#slots[h] = slot;
    return slot;
  }

  /** A scratch slot holding `v` (a query), to give back with `spare`. */
  scratch(v: Float32Array): number {
    const slot = this.slab.slot();
    this.slab.write(slot, v);
    return slot;
  }

  spare(slot: number): void {
    this.slab.spare(slot);
  }

  /** Copies of the vectors of `handles` (each must have one in the memo), in one allocation. */
  copyVectors(handles: readonly number[]): Float32Array[] {
    return this.slab.readMany(handles.map(h => this.#slots[h] as number));
  }

  /** Bytes this memo holds in the arena. */
  get bytes(): number {
    return this.slab.bytes;
  }

  /** Mark the memo in use by a search: a retired memo's memory is kept until the last user leaves. */
  use(): void {
    this.#users++;
  }

  leave(): void {
    this.#users--;
    if (this.#retired && this.#users === 0) this.slab.free();
  }

  /** The owner drops the memo: its memory goes back to the arena once no search uses it. */
  retire(): void {
    this.#retired = true;
    if (this.#users === 0) this.slab.free();
  }

  /** The handle of `node`, numbering it if new. */
  handle(node: NodeId): number {
    let h = this.#handles.get(node);
    if (h === undefined) {
      h = this.ids.length;
      this.#handles.set(node, h);
      this.ids.push(node);
      const bytes = Buffer.from(node, 'latin1');
      this.idBytes.push(bytes);
      const entry = new Uint8Array(2 + bytes.length);
      entry[0] = bytes.length >> 8;
      entry[1] = bytes.length & 0xff;
      entry.set(bytes, 2);
      this.listEntries.push(entry);
      if (h === this.#slots.length) {
        const grown = new Int32Array(h * 2).fill(UNREAD);
        grown.set(this.#slots);
        this.#slots = grown;
      }
      this.levels.push(undefined);
    }
    return h;
  }

  /** The neighbour lists of `level`. */
  level(level: number): (number[] | undefined)[] {
    let lists = this.lists[level];
    if (lists === undefined) {
      for (let l = this.lists.length; l <= level; l++) this.lists[l] = [];
      lists = this.lists[level] as (number[] | undefined)[];
    }
    return lists;
  }

  /** A visited set for one search (give it back with `release`): searches may interleave. */
  visited(): VisitedMarks {
    const marks = this.#marks.pop() ?? new VisitedMarks();
    marks.reset(this.ids.length);
    return marks;
  }

  release(marks: VisitedMarks): void {
    if (this.#marks.length < 8) this.#marks.push(marks);
  }
}

/** A set of handles, cleared in O(1) by moving to a new tag. */
export class VisitedMarks {
  #marks = new Uint32Array(0);
  #tag = 0;

  reset(capacity: number): void {
    if (this.#marks.length < capacity) this.#marks = new Uint32Array(Math.max(capacity, this.#marks.length * 2, 64));
    this.#tag++;
    if (this.#tag === 0xffffffff) {
      this.#marks.fill(0);
      this.#tag = 1;
    }
  }

  has(h: number): boolean {
    return h < this.#marks.length && this.#marks[h] === this.#tag;
  }

  add(h: number): void {
    if (h >= this.#marks.length) {
      const grown = new Uint32Array(Math.max(h + 1, this.#marks.length * 2));
      grown.set(this.#marks);
      this.#marks = grown;
    }
    this.#marks[h] = this.#tag;
  }
}
