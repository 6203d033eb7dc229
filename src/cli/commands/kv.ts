import { Command } from 'commander';
import type { Op, OpResult } from '../../server/transact-ops.js';
import type { Output } from '../output.js';
import { formatPrintable, parsePrintable } from '../printable.js';
import { withStore } from '../store.js';
import { positiveInteger, serverOptions, storeOptions, withStoreOptions } from './options.js';

/** fdbcli's default getrange limit. */
const DEFAULT_RANGE_LIMIT = 25;

const b64 = (text: string) => Buffer.from(parsePrintable(text)).toString('base64');
const show = (base64: string) => `\`${formatPrintable(Buffer.from(base64, 'base64'))}'`;

function kvLeaf(parent: Command, name: string, description: string): Command {
  return withStoreOptions(parent.command(name).description(description)).option(
    '-t, --tenant <name>',
    'work in this tenant’s keyspace (default: the raw keyspace, as a trusted operator)',
  );
}

/** Run one op as a transaction, locally or through the server, and return its result. */
async function runOp(opts: Record<string, unknown>, op: Op): Promise<OpResult> {
  const [result] = await withStore(storeOptions(opts), serverOptions(opts), s =>
    s.transact(typeof opts['tenant'] === 'string' ? opts['tenant'] : undefined, { ops: [op] }),
  );
  return result as OpResult;
}

/** `strata kv …`: read and write keys (fdbcli's get, set, clear, getrange, clearrange). */
export function kvCommand(output: Output): Command {
  const kv = new Command('kv').description('read and write keys; write bytes as \\xNN and a backslash as \\\\');

  kvLeaf(kv, 'get', 'print the value of KEY').argument('<key>').action(async (key: string, opts) => {
    const k = b64(key);
    const { value } = (await runOp(opts, { op: 'get', key: k })) as { value: string | null };
    output.out(value === null ? `${show(k)}: not found` : `${show(k)} is ${show(value)}`);
  });

  kvLeaf(kv, 'set', 'set KEY to VALUE').argument('<key>').argument('<value>').action(async (key: string, value: string, opts) => {
    const [k, v] = [b64(key), b64(value)];
    await runOp(opts, { op: 'set', key: k, value: v });
    output.out(`Committed: ${show(k)} is ${show(v)}`);
  });

  kvLeaf(kv, 'clear', 'remove KEY').argument('<key>').action(async (key: string, opts) => {
    const k = b64(key);
    await runOp(opts, { op: 'clear', key: k });
    output.out(`Committed: cleared ${show(k)}`);
  });

  kvLeaf(kv, 'getrange', 'print the keys from BEGIN (inclusive) to END (exclusive; default \\xff)')
    .argument('<begin>')
    .argument('[end]')
    .option('-l, --limit <n>', 'print at most this many (at most 10000)', positiveInteger, DEFAULT_RANGE_LIMIT)
    .option('-r, --reverse', 'from the end of the range backwards')
    .action(async (begin: string, end: string | undefined, opts) => {
      const op: Op = { op: 'getRange', begin: b64(begin), end: b64(end ?? '\\xff'), limit: opts.limit as number, reverse: opts.reverse === true };
      const { kvs, more } = (await runOp(opts, op)) as { kvs: Array<{ key: string; value: string }>; more: boolean };
      output.out(`\nRange limited to ${String(opts.limit)} keys`);
      for (const { key, value } of kvs) output.out(`${show(key)} is ${show(value)}`);
      if (more) output.out(`(more keys follow; raise --limit or continue from after the last key)`);
    });

  kvLeaf(kv, 'clearrange', 'remove every key from BEGIN (inclusive) to END (exclusive)')
    .argument('<begin>')
    .argument('<end>')
    .action(async (begin: string, end: string, opts) => {
      const [b, e] = [b64(begin), b64(end)];
      await runOp(opts, { op: 'clearRange', begin: b, end: e });
      output.out(`Committed: cleared ${show(b)} to ${show(e)}`);
    });

  return kv;
}
