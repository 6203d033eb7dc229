import { Command, InvalidArgumentError, Option } from 'commander';
import type { ConnectOptions } from '../connect.js';

/** Add the options every storage command takes: where the database is. */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-d, --data-dir <dir>', 'embedded engine data directory (default: $STRATA_DATA_DIR or ./data)'))
    .addOption(new Option('-C, --cluster-file <file>', 'use FoundationDB through this cluster file instead').conflicts('dataDir'));
}

/** The connection options of a parsed command. */
export function storeOptions(opts: { dataDir?: string; clusterFile?: string }): ConnectOptions {
  return {
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    ...(opts.clusterFile === undefined ? {} : { clusterFile: opts.clusterFile }),
  };
}

/** Parse a positive whole number option (`--limit`). */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
