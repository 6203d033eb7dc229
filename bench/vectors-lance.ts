import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection, Table } from '@lancedb/lancedb';
import { K } from './vectors-measure.js';

/**
 * LanceDB (`@lancedb/lancedb`), the embedded vector database a TypeScript user would pick instead,
 * used as its documentation shows: a table created from an array of row objects (plain number
 * arrays in a column called `vector`, which it stores as float32), searched with
 * `query().nearestTo(v).where(…).limit(10)`. Without a vector index LanceDB scans every vector
 * (exactly) and applies `where` before the scan; its reads and scans run on its own Rust thread
 * pools, so it is not confined to one core as the other engines are.
 */

/** A row: its id (the index into the bench's arrays) and string columns to filter on. */
export interface LanceRow {
  readonly id: number;
  readonly vector: Float32Array;
  readonly columns?: Readonly<Record<string, string>>;
}

export class LanceStore {
  readonly #dir: string;
  readonly #db: Connection;
  readonly #tables = new Map<string, Table>();

  private constructor(dir: string, db: Connection) {
    this.#dir = dir;
    this.#db = db;
  }

  static async open(): Promise<LanceStore> {
    const lancedb = await import('@lancedb/lancedb');
    const dir = await mkdtemp(join(tmpdir(), 'bench-lance-'));
    return new LanceStore(dir, await lancedb.connect(dir));
  }

  /** Create table `name` holding `rows`; the time it took, in ms (rows are converted to plain objects first, off the clock). */
  async createTable(name: string, rows: readonly LanceRow[]): Promise<number> {
    const objects = rows.map(r => ({ id: r.id, ...r.columns, vector: Array.from(r.vector) }));
    const start = performance.now();
    this.#tables.set(name, await this.#db.createTable(name, objects));
    return performance.now() - start;
  }

  /**
   * A bitmap index on string column `column` (LanceDB's advice for a column of few distinct values,
   * such as a tenant); the time it took, in ms.
   */
  async indexColumn(name: string, column: string): Promise<number> {
    const { Index } = await import('@lancedb/lancedb');
    const start = performance.now();
    await this.#table(name).createIndex(column, { config: Index.bitmap() });
    return performance.now() - start;
  }

  /** The ids of the top K rows of table `name` for `vector`, among those `where` selects (SQL). */
  async search(name: string, vector: Float32Array, where?: string): Promise<number[]> {
    let query = this.#table(name).query().nearestTo(vector).select(['id']).limit(K);
    if (where !== undefined) query = query.where(where);
    const rows = (await query.toArray()) as { id: number }[];
    return rows.map(r => r.id);
  }

  #table(name: string): Table {
    const table = this.#tables.get(name);
    if (table === undefined) throw new RangeError(`no LanceDB table ${name}`);
    return table;
  }

  async close(): Promise<void> {
    for (const table of this.#tables.values()) table.close();
    this.#db.close();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
