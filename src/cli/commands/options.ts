import { Command, InvalidArgumentError, Option } from 'commander';
import type { ConnectOptions } from '../connect.js';
import type { ServerOptions } from '../store.js';

/** Add the options every storage command takes: where the database is, locally or behind a server. */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-d, --data-dir <dir>', 'embedded engine data directory (default: $STRATA_DATA_DIR or ./data)'))
    .addOption(new Option('-C, --cluster-file <file>', 'use FoundationDB through this cluster file instead').conflicts('dataDir'))
    .addOption(new Option('-s, --server <url>', 'work through a Strata server instead (https://HOST:PORT)').env('STRATA_SERVER').conflicts(['dataDir', 'clusterFile']))
    .addOption(new Option('--tls-ca-file <file>', 'with --server: CA of the server certificate (default: certs/dev/ca.pem if present)'))
    .addOption(new Option('--tls-certificate-file <file>', 'with --server: operator client certificate (default: certs/dev/operator.pem if present)'))
    .addOption(new Option('--tls-key-file <file>', 'with --server: operator client key (default: certs/dev/operator.key if present)'))
    .addOption(new Option('--token <jwt>', 'with --server: call as an untrusted client holding this token').env('STRATA_TOKEN'));
}

/** The server options of a parsed command. */
export function serverOptions(opts: Record<string, unknown>): ServerOptions {
  const pick = (k: string) => (typeof opts[k] === 'string' ? { [k]: opts[k] as string } : {});
  return { ...pick('server'), ...pick('tlsCaFile'), ...pick('tlsCertificateFile'), ...pick('tlsKeyFile'), ...pick('token') };
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
