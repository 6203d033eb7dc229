import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTenant, openDatabase, TenantTransaction, type Database, type Transaction } from '../src/index.js';
import { createCollection, createPayloadIndex, parseIndexSchema, parseUpsertPoints, requireCollection, upsertPoints, type Filter } from '../layers/record/index.js';
import { exactSearch, VectorCache, VectorIndexer } from '../layers/vector/index.js';
import { K } from './vectors-measure.js';

/**
 * Strata through its library's public faces (`strata`, `strata/record`, `strata/vector`), as an
 * embedding application uses it: an embedded store in a temporary directory with one tenant,
 * collections created from Qdrant-shaped bodies, points upserted through the record layer, the
 * graphs linked by the background indexer, searches through `exactSearch` (which walks the graph
 * unless told `exact`) with one VectorCache kept across them, as the server keeps one.
 */

/** A point to upsert; its id is a whole number (the index into the bench's arrays). */
export interface StrataPoint {
  readonly id: number;
  readonly vector: Float32Array;
  readonly payload?: Readonly<Record<string, unknown>>;
}

/** How a search runs: `ef` is `hnsw_ef`; `filter` a Qdrant filter parsed by `parseFilter`, as the server's routes parse it. */
export interface StrataQuery {
  readonly ef?: number;
  readonly exact?: boolean;
  readonly filter?: Filter;
}

const UPSERT_BATCH = 256;

export class StrataStore {
  readonly #dir: string;
  readonly #db: Database;
  readonly #prefix: Uint8Array;
  readonly #cache: VectorCache;

  private constructor(dir: string, db: Database, prefix: Uint8Array, cache: VectorCache) {
    this.#dir = dir;
    this.#db = db;
    this.#prefix = prefix;
    this.#cache = cache;
  }

  /** A fresh store with one tenant. */
  static async open(): Promise<StrataStore> {
    const dir = await mkdtemp(join(tmpdir(), 'bench-vectors-'));
    const db = await openDatabase({ dataDir: dir });
    const { prefix } = await db.transact(tx => createTenant(tx, 'bench'));
    return new StrataStore(dir, db, prefix, new VectorCache());
  }

  #inTenant<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.#db.transact(tx => fn(new TenantTransaction(tx, this.#prefix)));
  }

  /** Create collection `name` from a Qdrant create-collection `body`, with payload indexes (`field_schema` by field). */
  async createCollection(name: string, body: unknown, indexes: Readonly<Record<string, unknown>> = {}): Promise<void> {
    await this.#inTenant(async tx => {
      let c = await createCollection(tx, name, body);
      for (const [field, schema] of Object.entries(indexes)) c = await createPayloadIndex(tx, c, field, parseIndexSchema(schema));
    });
  }

  /** Upsert `points` in batches of 256, a transaction each. */
  async upsert(name: string, points: readonly StrataPoint[]): Promise<void> {
    for (let i = 0; i < points.length; i += UPSERT_BATCH) {
      const body = { points: points.slice(i, i + UPSERT_BATCH).map(p => ({ id: p.id, vector: Array.from(p.vector), payload: p.payload ?? {} })) };
      await this.#inTenant(async tx => {
        const c = await requireCollection(tx, name);
        await upsertPoints(tx, c, parseUpsertPoints(c.config, body));
      });
    }
  }

  /** Run the background indexer's rounds until nothing is pending: every graph is linked. */
  async linkAll(): Promise<void> {
    const indexer = new VectorIndexer(this.#db);
    await indexer.drain();
  }

  /** The ids of the top K points of collection `name` for `vector`. */
  search(name: string, vector: Float32Array, query: StrataQuery): Promise<number[]> {
    return this.#inTenant(async tx => {
      const c = await requireCollection(tx, name);
      const hits = await exactSearch(tx, c, { vector, limit: K, hnswEf: query.ef, exact: query.exact, filter: query.filter, cache: this.#cache });
      return hits.map(h => h.id as number);
    });
  }

  async close(): Promise<void> {
    await this.#db.close();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
