import { concatBytes, prefixEnd } from '../../../src/kv/keys.js';
import type { Subspace } from '../../../src/kv/subspace.js';
import type { Transaction } from '../../../src/kv/types.js';
import { decodeVector } from '../../record/codec.js';
import { dotProduct, manhattanDistance, squaredEuclidean, type Distance } from '../distance.js';

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
 * vector is the record layer's vector key for the same bytes. A search step reads all the vectors it
 * needs in one batch of parallel reads (on FoundationDB, one round trip). Within one operation,
 * vectors and neighbour lists are cached in memory.
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

/** The distance searches rank by: lower is closer (a negated dot product for Cosine and Dot). */
export function rankDistance(distance: Distance): (a: Float32Array, b: Float32Array) => number {
  switch (distance) {
    case 'Cosine':
    case 'Dot':
      return (a, b) => -dotProduct(a, b);
    case 'Euclid':
      return squaredEuclidean;
    case 'Manhattan':
      return manhattanDistance;
  }
}

/** Decoded vectors and neighbour lists of one graph. */
export interface GraphMemo {
  readonly vectors: Map<NodeId, Float32Array | null>;
  readonly lists: Map<string, NodeId[]>;
}

/** Reads and writes one graph within one transaction. */
export class GraphStore {
  readonly #tx: Transaction;
  readonly #graph: Subspace;
  readonly #vectorPrefix: Uint8Array;
  readonly #vectors: Map<NodeId, Float32Array | null>;
  readonly #lists: Map<string, NodeId[]>;
  readonly #entryKey: Uint8Array;
  readonly #countKey: Uint8Array;
  readonly #versionKey: Uint8Array;
  #bumped = false;
  readonly #levelPrefix: Uint8Array;
  readonly #listPrefixes: Uint8Array[] = [];

  /**
   * `graph` holds the graph; `vectors` is the subspace whose keys + node bytes hold the vectors.
   * `shared`, for read-only searches, is a cache kept across transactions by the caller (valid
   * only while the graph and the vectors are unchanged: see `cache.ts`).
   */
  constructor(tx: Transaction, graph: Subspace, vectors: Subspace, shared?: GraphMemo) {
    this.#tx = tx;
    this.#vectors = shared?.vectors ?? new Map();
    this.#lists = shared?.lists ?? new Map();
    this.#graph = graph;
    this.#vectorPrefix = vectors.prefix;
    this.#entryKey = graph.pack(['e']);
    this.#countKey = graph.pack(['c']);
    this.#versionKey = graph.pack(['v']);
    this.#levelPrefix = graph.pack(['l']);
  }

  #listKey(level: number, node: NodeId): Uint8Array {
    let prefix = this.#listPrefixes[level];
    if (prefix === undefined) this.#listPrefixes[level] = prefix = this.#graph.pack(['n', level]);
    return concatBytes(prefix, nodeBytes(node));
  }

  async entry(): Promise<{ node: NodeId; level: number } | undefined> {
    const v = await this.#tx.get(this.#entryKey);
    if (v === undefined) return undefined;
    return { level: v[0] as number, node: nodeOf(v.subarray(1)) };
  }

  setEntry(entry: { node: NodeId; level: number } | undefined): void {
    this.#changed();
    if (entry === undefined) this.#tx.clear(this.#entryKey);
    else this.#tx.set(this.#entryKey, concatBytes(Uint8Array.of(entry.level), nodeBytes(entry.node)));
  }

  async level(node: NodeId): Promise<number | undefined> {
    const v = await this.#tx.get(concatBytes(this.#levelPrefix, nodeBytes(node)));
    return v === undefined ? undefined : (v[0] as number);
  }

  /** Set or clear a node's level; a new node (`added`) or a removed one moves the node count. */
  setLevel(node: NodeId, level: number | undefined): void {
    this.#changed();
    const key = concatBytes(this.#levelPrefix, nodeBytes(node));
    if (level === undefined) {
      this.#tx.clear(key);
      this.#tx.add(this.#countKey, MINUS_ONE);
    } else {
      this.#tx.set(key, Uint8Array.of(level));
      this.#tx.add(this.#countKey, PLUS_ONE);
    }
  }

  /** The graph's version: it changes with every transaction that changes the graph. */
  async version(): Promise<string> {
    const v = await this.#tx.get(this.#versionKey);
    return v === undefined ? '0' : Buffer.from(v).readBigUInt64LE().toString();
  }

  #changed(): void {
    if (this.#bumped) return;
    this.#bumped = true;
    this.#tx.add(this.#versionKey, PLUS_ONE);
  }

  /** How many nodes the graph holds. */
  async count(): Promise<number> {
    const v = await this.#tx.get(this.#countKey, { snapshot: true });
    return v === undefined ? 0 : Number(Buffer.from(v).readBigInt64LE());
  }

  /** Some node of the graph with its level (the highest-level one is not guaranteed). */
  async anyNode(): Promise<{ node: NodeId; level: number } | undefined> {
    const { kvs } = await this.#tx.getRange(this.#levelPrefix, prefixEnd(this.#levelPrefix), { limit: 1 });
    const first = kvs[0];
    return first === undefined ? undefined : { node: nodeOf(first.key.subarray(this.#levelPrefix.length)), level: first.value[0] as number };
  }

  async neighbours(level: number, node: NodeId): Promise<NodeId[]> {
    const cacheKey = `${level}:${node}`;
    const cached = this.#lists.get(cacheKey);
    if (cached !== undefined) return cached;
    const v = await this.#tx.get(this.#listKey(level, node));
    const list: NodeId[] = [];
    if (v !== undefined) {
      const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i < b.length; ) {
        const n = b.readUInt16BE(i);
        list.push(b.toString('latin1', i + 2, i + 2 + n));
        i += 2 + n;
      }
    }
    this.#lists.set(cacheKey, list);
    return list;
  }

  setNeighbours(level: number, node: NodeId, list: readonly NodeId[] | undefined): void {
    this.#changed();
    const key = this.#listKey(level, node);
    const cacheKey = `${level}:${node}`;
    if (list === undefined) {
      this.#tx.clear(key);
      this.#lists.set(cacheKey, []);
      return;
    }
    const parts: Buffer[] = [];
    for (const n of list) {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(n.length);
      parts.push(len, Buffer.from(n, 'latin1'));
    }
    this.#tx.set(key, Buffer.concat(parts));
    this.#lists.set(cacheKey, [...list]);
  }

  /** The vectors of `nodes`, read together; null for a node whose point is gone. */
  async vectors(nodes: readonly NodeId[]): Promise<(Float32Array | null)[]> {
    const missing = nodes.filter(n => !this.#vectors.has(n));
    if (missing.length > 0) {
      const raws = await Promise.all(missing.map(n => this.#tx.get(concatBytes(this.#vectorPrefix, nodeBytes(n)))));
      for (const [i, n] of missing.entries()) {
        const raw = raws[i];
        this.#vectors.set(n, raw === undefined ? null : decodeVector(raw));
      }
    }
    return nodes.map(n => this.#vectors.get(n) ?? null);
  }

  /** Tell the store a node's vector (the one being inserted, not yet readable). */
  knowVector(node: NodeId, vector: Float32Array): void {
    this.#vectors.set(node, vector);
  }
}
