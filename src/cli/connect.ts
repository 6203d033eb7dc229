import { StrataError } from '../errors.js';
import { openDatabase } from '../kv/open.js';
import type { Database } from '../kv/types.js';

/** Where a command finds the database. */
export interface ConnectOptions {
  readonly dataDir?: string;
  readonly clusterFile?: string;
}

/** The data directory used when neither flag is given. */
export const DEFAULT_DATA_DIR = './data';

/** Open the database a command names: a cluster file, a data directory, or `./data`. */
export async function connect(options: ConnectOptions): Promise<Database> {
  if (options.dataDir !== undefined && options.clusterFile !== undefined) {
    throw new StrataError('ERR_CLI_INVALID_ARGUMENT', 'give --data-dir or --cluster-file, not both');
  }
  if (options.clusterFile !== undefined) return openDatabase({ clusterFile: options.clusterFile });
  return openDatabase({ dataDir: options.dataDir ?? process.env['STRATA_DATA_DIR'] ?? DEFAULT_DATA_DIR });
}

/** Run `fn` on the database and always close it. */
export async function withDatabase<T>(options: ConnectOptions, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await connect(options);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
