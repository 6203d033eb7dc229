import { invalidArgument, isStrataError, StrataError } from '../errors.js';
import { openDatabase } from '../kv/open.js';
import type { Database } from '../kv/types.js';

/** Where a command finds the database. */
export interface ConnectOptions {
  readonly dataDir?: string;
  readonly clusterFile?: string;
}

/** The data directory used when neither flag is given. */
export const DEFAULT_DATA_DIR = './data';

/** The data directory a command uses. */
export function dataDirOf(options: ConnectOptions): string {
  return options.dataDir ?? process.env['STRATA_DATA_DIR'] ?? DEFAULT_DATA_DIR;
}

/**
 * Open the database a command names: a cluster file, or a data directory (`./data` by default).
 * Only `strata init` creates a store; other commands refuse a directory without one, so a mistyped
 * path is an error rather than a new, empty store.
 */
export async function connect(options: ConnectOptions, create = false): Promise<Database> {
  if (options.dataDir !== undefined && options.clusterFile !== undefined) {
    throw invalidArgument('give --data-dir or --cluster-file, not both');
  }
  if (options.clusterFile !== undefined) return openDatabase({ clusterFile: options.clusterFile });
  const dataDir = dataDirOf(options);
  try {
    return await openDatabase({ dataDir, create });
  } catch (err) {
    if (isStrataError(err, 'ERR_KV_STORE_NOT_FOUND')) {
      throw new StrataError('ERR_KV_STORE_NOT_FOUND', `no Strata store in ${dataDir}; create one with \`strata init --data-dir ${dataDir}\``, {
        details: { dir: dataDir },
      });
    }
    throw err;
  }
}

/** Run `fn` on the database and always close it. */
export async function withDatabase<T>(options: ConnectOptions, fn: (db: Database) => Promise<T>, create = false): Promise<T> {
  const db = await connect(options, create);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
