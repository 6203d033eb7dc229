import { KvDatabase } from './database.js';
import { openEmbeddedEngine, type EmbeddedOptions } from './embedded/engine.js';
import type { Database } from './types.js';

/** Where the data lives: a local directory (embedded engine) or a FoundationDB cluster file. */
export type OpenOptions = EmbeddedOptions | { readonly clusterFile: string };

/**
 * Open a database: the embedded engine on `dataDir`, or FoundationDB when `clusterFile` is given.
 * The FoundationDB client is loaded only then, so machines without it can use the embedded engine.
 *
 * @example
 * const db = await openDatabase({ dataDir: './data' });
 * await db.transact(async tx => tx.set(key, value));
 */
export async function openDatabase(options: OpenOptions): Promise<Database> {
  if ('clusterFile' in options) {
    const { openFdbEngine } = await import('./fdb/engine.js');
    return new KvDatabase(await openFdbEngine(options.clusterFile));
  }
  return new KvDatabase(await openEmbeddedEngine(options));
}
