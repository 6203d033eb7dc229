import { concatBytes, prefixEnd } from '../../../src/kv/keys.js';
import type { Subspace } from '../../../src/kv/subspace.js';
import type { Transaction } from '../../../src/kv/types.js';
import { UNREAD, type GraphMemo, type VisitedMarks } from './memo.js';

/**
 * An HNSW graph stored in the key-value layer (after the FDB Record Layer's `async/hnsw`): every
 * server on the same store sees one index, and the embedded engine persists it. Layout, inside the
 * graph's subspace (pinned by test/vector/hnsw.test.ts):
 *
 * ```
 * ('e')               → entry point: u8 level + point id bytes
 * ('c')               → node count (little-endian 64-bit, atomic add)
 * ('v')               → version: bumped (atomic add) by every transaction that changes the graph
 * ('l') + id          → the node's top level (u8)
 * ('n', level) + id   → its neighbours at that level: (u16 BE length + id bytes)*
 * ```
 *
 * Nodes are named by their point id's packed bytes (the record layer's encoding), so a node's
 * vector is the record layer's vector key for the same bytes. In memory, nodes are small integer
 * handles (see memo.ts); a search step reads what the memo lacks in one batch of parallel reads
 * (on FoundationDB, one round trip).
 */

const PLUS_ONE = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0);
const MINUS_ONE = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** HNSW parameters (Qdrant's names): `m` links per node (2m on layer 0), `ef_construct`. */
export interface HnswParams {
  readonly m: number;
  readonly efConstruct: number;
}

/** A node: its point id's packed bytes, as a latin1 string (usable as a Map key). */
export type NodeId = string;

export const nodeBytes = (node: NodeId): Buffer => Buffer.from(node, 'latin1');
export const nodeOf = (bytes: Uint8Array): NodeId => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** A node (by handle) and its level. */
export interface Entry {
  readonly node: number;
  readonly level: number;
}

/** The keys of one graph, packed once per graph subspace (subspaces are memoized per collection). */
interface GraphKeys {
  /** The graph's prefix as a string (a cache key). */
  readonly id: string;
  readonly entry: Uint8Array;
  readonly count: Uint8Array;
  readonly version: Uint8Array;
  readonly levelPrefix: Uint8Array;
  readonly listPrefixes: Uint8Array[];
}

const keysOfGraph = new WeakMap<Subspace, GraphKeys>();

function graphKeys(graph: Subspace): GraphKeys {
  let keys = keysOfGraph.get(graph);
  if (keys === undefined) {
    keys = { id: Buffer.from(graph.prefix).toString('latin1'), entry: graph.pack(['e']), count: graph.pack(['c']), version: graph.pack(['v']), levelPrefix: graph.pack(['l']), listPrefixes: [] };
    keysOfGraph.set(graph, keys);
  }
  return keys;
}

/** Reads and writes one graph within one transaction, through a memo of what it has read. */
export class GraphStore {
  readonly #tx: Transaction;
  readonly #graph: Subspace;
  readonly #vectorPrefix: Uint8Array;
  readonly memo: GraphMemo;
  readonly #entryKey: Uint8Array;
  readonly #countKey: Uint8Array;
  readonly #versionKey: Uint8Array;
  readonly #levelPrefix: Uint8Array;
  readonly #listPrefixes: Uint8Array[];
  #changed = false;
  /** level → node → its link limit, for lists that inserts left over it (see `insert.ts`'s `settle`) */
  readonly overfull: (Map<number, number> | undefined)[] = [];
  /** level → node → whether its list is present (false: removed), for lists changed since `flush` */
  readonly #dirty: (Map<number, boolean> | undefined)[] = [];

  /**
   * `graph` holds the graph; `vectors` is the subspace whose keys + node bytes hold the vectors.
   * `memo` is a fresh one, or one the caller kept from earlier transactions and checked is still
   * valid (see cache.ts and writer-memos.ts).
   */
  constructor(tx: Transaction, graph: Subspace, vectors: Subspace, memo: GraphMemo) {
    this.#tx = tx;
    this.memo = memo;
    this.#graph = graph;
    this.#vectorPrefix = vectors.prefix;
    const keys = graphKeys(graph);
    this.#entryKey = keys.entry;
    this.#countKey = keys.count;
    this.#versionKey = keys.version;
    this.#levelPrefix = keys.levelPrefix;
    this.#listPrefixes = keys.listPrefixes;
  }

  /** True once this transaction changed the graph. */
  get changed(): boolean {
    return this.#changed;
  }

  handle(node: NodeId): number {
    return this.memo.handle(node);
  }

  node(handle: number): NodeId {
    return this.memo.ids[handle] as NodeId;
  }

  visited(): VisitedMarks {
    return this.memo.visited();
  }

  release(marks: VisitedMarks): void {
    this.memo.release(marks);
  }

  #listKey(level: number, node: number): Uint8Array {
    let prefix = this.#listPrefixes[level];
    if (prefix === undefined) this.#listPrefixes[level] = prefix = this.#graph.pack(['n', level]);
    return concatBytes(prefix, this.memo.idBytes[node] as Buffer);
  }

  async entry(): Promise<Entry | undefined> {
    const v = await this.#tx.get(this.#entryKey);
    if (v === undefined) return undefined;
    return { level: v[0] as number, node: this.handle(nodeOf(v.subarray(1))) };
  }

  setEntry(entry: Entry | undefined): void {
    this.#change();
    if (entry === undefined) this.#tx.clear(this.#entryKey);
    else this.#tx.set(this.#entryKey, concatBytes(Uint8Array.of(entry.level), this.memo.idBytes[entry.node] as Buffer));
  }

  /** The node's top level, or undefined when it is not in the graph. */
  async level(node: number): Promise<number | undefined> {
    const known = this.memo.levels[node];
    if (known !== undefined) return known ?? undefined;
    const v = await this.#tx.get(concatBytes(this.#levelPrefix, this.memo.idBytes[node] as Buffer));
    const level = v === undefined ? null : (v[0] as number);
    this.memo.levels[node] = level;
    return level ?? undefined;
  }

  /** Set or clear a node's level; a new node or a removed one moves the node count. */
  setLevel(node: number, level: number | undefined): void {
    this.#change();
    const key = concatBytes(this.#levelPrefix, this.memo.idBytes[node] as Buffer);
    this.memo.levels[node] = level ?? null;
    if (level === undefined) {
      this.#tx.clear(key);
      this.#tx.add(this.#countKey, MINUS_ONE);
    } else {
      this.#tx.set(key, Uint8Array.of(level));
      this.#tx.add(this.#countKey, PLUS_ONE);
    }
  }

  #change(): void {
    if (this.#changed) return;
    this.#changed = true;
    this.#tx.add(this.#versionKey, PLUS_ONE);
  }

  /** Some node of the graph with its level (the highest-level one is not guaranteed). */
  async anyNode(): Promise<Entry | undefined> {
    const { kvs } = await this.#tx.getRange(this.#levelPrefix, prefixEnd(this.#levelPrefix), { limit: 1 });
    const first = kvs[0];
    return first === undefined ? undefined : { node: this.handle(nodeOf(first.key.subarray(this.#levelPrefix.length))), level: first.value[0] as number };
  }

  /** The node's neighbours at `level` (from the memo when read before). */
  async neighbours(level: number, node: number): Promise<number[]> {
    return this.memo.level(level)[node] ?? this.#readList(level, node);
  }

  async #readList(level: number, node: number): Promise<number[]> {
    const v = await this.#tx.get(this.#listKey(level, node));
    const list: number[] = [];
    if (v !== undefined) {
      const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i < b.length; ) {
        const n = b.readUInt16BE(i);
        list.push(this.handle(b.toString('latin1', i + 2, i + 2 + n)));
        i += 2 + n;
      }
    }
    this.memo.level(level)[node] = list;
    return list;
  }

  /**
   * Replace the node's neighbours at `level` (undefined: remove the list); the memo keeps `list`
   * itself. Written to the transaction by `flush`: a node's list changes many times in a batch
   * of inserts, and is encoded and written once.
   */
  setNeighbours(level: number, node: number, list: number[] | undefined): void {
    this.#change();
    this.memo.level(level)[node] = list ?? [];
    let dirty = this.#dirty[level];
    if (dirty === undefined) this.#dirty[level] = dirty = new Map();
    dirty.set(node, list !== undefined);
  }

  /** Note that `node`'s list at `level` holds more than its `limit` links, to be pruned before the commit. */
  markOverfull(level: number, node: number, limit: number): void {
    let marked = this.overfull[level];
    if (marked === undefined) this.overfull[level] = marked = new Map();
    marked.set(node, limit);
  }

  /**
   * Write the neighbour lists changed since the last flush; call before the transaction commits
   * (through `settle`, which first prunes the lists inserts left overfull).
   */
  flush(): void {
    if (this.overfull.some(m => m !== undefined && m.size > 0)) throw new Error('graph lists left over their limit: call settle() before committing');
    const entries = this.memo.listEntries;
    for (const [level, dirty] of this.#dirty.entries()) {
      if (dirty === undefined) continue;
      const lists = this.memo.level(level);
      for (const [node, present] of dirty) {
        const key = this.#listKey(level, node);
        if (!present) {
          this.#tx.clear(key);
          continue;
        }
        this.#tx.set(key, encodeList(lists[node] as number[], entries));
      }
    }
    this.#dirty.length = 0;
  }

  /**
   * Make sure the vectors of `nodes` are in the memo (`memo.slots[h]`: a slot, or NO_VECTOR for a
   * node whose point is gone), reading the missing ones together.
   */
  async loadVectors(nodes: readonly number[]): Promise<void> {
    const slots = this.memo.slots;
    const missing = nodes.filter(n => slots[n] === UNREAD);
    if (missing.length === 0) return;
    const raws = await Promise.all(missing.map(n => this.#tx.get(concatBytes(this.#vectorPrefix, this.memo.idBytes[n] as Buffer))));
    for (const [i, n] of missing.entries()) {
      if (this.memo.slots[n] === UNREAD) this.memo.setVectorBytes(n, raws[i]);
    }
  }

  /** The slot of `node`'s vector (null: the point has none), read if not in the memo. */
  async vector(node: number): Promise<number | null> {
    await this.loadVectors([node]);
    const slot = this.memo.slots[node] as number;
    return slot >= 0 ? slot : null;
  }

  /** Tell the store a node's vector as it is now (null: gone), e.g. one being inserted, maybe not yet readable. */
  knowVector(node: number, vector: Float32Array | null): void {
    this.memo.setVector(node, vector);
  }
}

/** How many nodes the graph in `graph` holds (a snapshot read: a look, not a dependency). */
export async function graphCount(tx: Transaction, graph: Subspace): Promise<number> {
  const v = await tx.get(graphKeys(graph).count, { snapshot: true });
  return v === undefined ? 0 : Number(Buffer.from(v).readBigInt64LE());
}

/** A stored neighbour list: the nodes' entries (u16 length + id bytes) one after another. */
function encodeList(list: readonly number[], entries: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const n of list) size += (entries[n] as Uint8Array).length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const n of list) {
    const entry = entries[n] as Uint8Array;
    // Entries are a few bytes (packed integer ids): a loop beats a native copy call.
    for (let i = 0; i < entry.length; i++) out[at + i] = entry[i] as number;
    at += entry.length;
  }
  return out;
}

/** A key naming graph `graph` (for caches of it). */
export function graphId(graph: Subspace): string {
  return graphKeys(graph).id;
}

/** The version of the graph in `graph`: it changes with every transaction that changes the graph (0 for one never written). */
export async function graphVersion(tx: Transaction, graph: Subspace): Promise<bigint> {
  const v = await tx.get(graphKeys(graph).version);
  return v === undefined ? 0n : Buffer.from(v.buffer, v.byteOffset, v.byteLength).readBigUInt64LE();
}
