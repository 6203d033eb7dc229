import { invalidArgument } from '../../errors.js';
import { prefixEnd } from '../../kv/keys.js';
import { MAX_RANGE_LIMIT, type Op, type OpResult } from '../../server/transact-ops.js';
import { formatPrintable, parsePrintable } from '../printable.js';
import type { ShellCommand, ShellContext } from './command.js';

/** fdbcli's getrange limit when none is given. */
const DEFAULT_RANGE_LIMIT = 25;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const arg = (text: string | undefined) => b64(parsePrintable(text as string));
const show = (base64: string) => `\`${formatPrintable(Buffer.from(base64, 'base64'))}'`;

/** Run one op in its own transaction, in the session's tenant or on raw keys. */
async function runOp(ctx: ShellContext, op: Op): Promise<OpResult> {
  const [result] = await ctx.store.transact(ctx.state.tenant, { ops: [op] });
  return result as OpResult;
}

/**
 * fdbcli's range end when none is given: every key starting with BEGIN, or every key when BEGIN
 * is empty.
 */
function defaultEnd(begin: Uint8Array): Uint8Array {
  if (begin.length === 0) return Uint8Array.of(0xff);
  if (begin.every(b => b === 0xff)) throw invalidArgument('a BEGIN of only \\xff bytes has no keys after it to list; give END');
  return prefixEnd(begin);
}

function rangeLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_RANGE_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_RANGE_LIMIT) throw invalidArgument(`bad limit \`${text}': give a whole number from 1 to ${MAX_RANGE_LIMIT}`);
  return n;
}

async function getRange(ctx: ShellContext, args: readonly string[], keysOnly: boolean): Promise<void> {
  const begin = parsePrintable(args[0] as string);
  const end = args[1] === undefined ? defaultEnd(begin) : parsePrintable(args[1]);
  const limit = rangeLimit(args[2]);
  const { kvs, more } = (await runOp(ctx, { op: 'getRange', begin: b64(begin), end: b64(end), limit })) as {
    kvs: Array<{ key: string; value: string }>;
    more: boolean;
  };
  ctx.output.out(`\nRange limited to ${limit} keys`);
  for (const { key, value } of kvs) ctx.output.out(keysOnly ? show(key) : `${show(key)} is ${show(value)}`);
  if (more) ctx.output.out('(more keys follow; raise LIMIT or continue from after the last key)');
}

const RANGE_DETAILS = `Lists keys from BEGIN (inclusive) to END (exclusive). Without END, the keys that start with
BEGIN (every key when BEGIN is ""). LIMIT defaults to ${DEFAULT_RANGE_LIMIT} (at most ${MAX_RANGE_LIMIT}).`;

/** Reading and writing keys, in the session's tenant or the raw keyspace (fdbcli's verbs). */
export const KEY_COMMANDS: readonly ShellCommand[] = [
  {
    name: 'get',
    args: 'KEY',
    summary: 'print the value of KEY',
    writes: false,
    run: async (ctx, [key]) => {
      const k = arg(key);
      const { value } = (await runOp(ctx, { op: 'get', key: k })) as { value: string | null };
      ctx.output.out(value === null ? `${show(k)}: not found` : `${show(k)} is ${show(value)}`);
    },
  },
  {
    name: 'getrange',
    args: 'BEGIN [END] [LIMIT]',
    summary: 'print keys and values from BEGIN to END',
    details: RANGE_DETAILS,
    writes: false,
    run: (ctx, args) => getRange(ctx, args, false),
  },
  {
    name: 'getrangekeys',
    args: 'BEGIN [END] [LIMIT]',
    summary: 'print the keys (no values) from BEGIN to END',
    details: RANGE_DETAILS,
    writes: false,
    run: (ctx, args) => getRange(ctx, args, true),
  },
  {
    name: 'set',
    args: 'KEY VALUE',
    summary: 'set KEY to VALUE',
    writes: true,
    run: async (ctx, [key, value]) => {
      const [k, v] = [arg(key), arg(value)];
      await runOp(ctx, { op: 'set', key: k, value: v });
      ctx.output.out(`Committed: ${show(k)} is ${show(v)}`);
    },
  },
  {
    name: 'clear',
    args: 'KEY',
    summary: 'remove KEY',
    writes: true,
    run: async (ctx, [key]) => {
      const k = arg(key);
      await runOp(ctx, { op: 'clear', key: k });
      ctx.output.out(`Committed: cleared ${show(k)}`);
    },
  },
  {
    name: 'clearrange',
    args: 'BEGIN END',
    summary: 'remove every key from BEGIN (inclusive) to END (exclusive)',
    writes: true,
    run: async (ctx, [begin, end]) => {
      const [b, e] = [arg(begin), arg(end)];
      await runOp(ctx, { op: 'clearRange', begin: b, end: e });
      ctx.output.out(`Committed: cleared ${show(b)} to ${show(e)}`);
    },
  },
];
