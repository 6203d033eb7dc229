import { Command } from 'commander';
import type { Database, Transaction } from '../../kv/types.js';
import { tenantHandle } from '../../tenancy/tenant.js';
import { withDatabase } from '../connect.js';
import type { Output } from '../output.js';
import { formatPrintable, parsePrintable } from '../printable.js';
import { positiveInteger, storeOptions, withStoreOptions } from './options.js';

/** fdbcli's default getrange limit. */
const DEFAULT_RANGE_LIMIT = 25;

/** Run `fn` in a transaction: on the tenant's keyspace with --tenant, else on raw keys. */
function inScope<T>(db: Database, tenant: string | undefined, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  return tenant === undefined ? db.transact(fn) : tenantHandle(db, tenant).transact(fn);
}

function kvLeaf(parent: Command, name: string, description: string): Command {
  return withStoreOptions(parent.command(name).description(description)).option(
    '-t, --tenant <name>',
    'work in this tenant’s keyspace (default: the raw keyspace, as a trusted operator)',
  );
}

const show = (bytes: Uint8Array) => `\`${formatPrintable(bytes)}'`;

/** `strata kv …`: read and write keys (fdbcli's get, set, clear, getrange, clearrange). */
export function kvCommand(output: Output): Command {
  const kv = new Command('kv').description('read and write keys; write bytes as \\xNN and a backslash as \\\\');

  kvLeaf(kv, 'get', 'print the value of KEY').argument('<key>').action(async (key: string, opts) => {
    const k = parsePrintable(key);
    const v = await withDatabase(storeOptions(opts), db => inScope(db, opts.tenant, tx => tx.get(k)));
    output.out(v === undefined ? `${show(k)}: not found` : `${show(k)} is ${show(v)}`);
  });

  kvLeaf(kv, 'set', 'set KEY to VALUE').argument('<key>').argument('<value>').action(async (key: string, value: string, opts) => {
    const k = parsePrintable(key);
    const v = parsePrintable(value);
    await withDatabase(storeOptions(opts), db => inScope(db, opts.tenant, async tx => tx.set(k, v)));
    output.out(`Committed: ${show(k)} is ${show(v)}`);
  });

  kvLeaf(kv, 'clear', 'remove KEY').argument('<key>').action(async (key: string, opts) => {
    const k = parsePrintable(key);
    await withDatabase(storeOptions(opts), db => inScope(db, opts.tenant, async tx => tx.clear(k)));
    output.out(`Committed: cleared ${show(k)}`);
  });

  kvLeaf(kv, 'getrange', 'print the keys from BEGIN (inclusive) to END (exclusive; default \\xff)')
    .argument('<begin>')
    .argument('[end]')
    .option('-l, --limit <n>', 'print at most this many', positiveInteger, DEFAULT_RANGE_LIMIT)
    .option('-r, --reverse', 'from the end of the range backwards')
    .action(async (begin: string, end: string | undefined, opts) => {
      const b = parsePrintable(begin);
      const e = end === undefined ? Uint8Array.of(0xff) : parsePrintable(end);
      const { kvs, more } = await withDatabase(storeOptions(opts), db =>
        inScope(db, opts.tenant, tx => tx.getRange(b, e, { limit: opts.limit as number, reverse: opts.reverse === true })),
      );
      output.out(`\nRange limited to ${String(opts.limit)} keys`);
      for (const { key, value } of kvs) output.out(`${show(key)} is ${show(value)}`);
      if (more) output.out(`(more keys follow; raise --limit or continue from after the last key)`);
    });

  kvLeaf(kv, 'clearrange', 'remove every key from BEGIN (inclusive) to END (exclusive)')
    .argument('<begin>')
    .argument('<end>')
    .action(async (begin: string, end: string, opts) => {
      const b = parsePrintable(begin);
      const e = parsePrintable(end);
      await withDatabase(storeOptions(opts), db => inScope(db, opts.tenant, async tx => tx.clearRange(b, e)));
      output.out(`Committed: cleared ${show(b)} to ${show(e)}`);
    });

  return kv;
}
