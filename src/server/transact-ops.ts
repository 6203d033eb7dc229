import { StrataError } from '../errors.js';
import { keyAfter } from '../kv/keys.js';
import { LIMITS } from '../kv/limits.js';
import type { Transaction } from '../kv/types.js';

/**
 * The native API's transact body (DESIGN §6): keys and values are base64; compares are checked
 * before any op, and a failed compare writes nothing.
 */
export type Op =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'getRange'; readonly begin: string; readonly end: string; readonly limit?: number; readonly reverse?: boolean }
  | { readonly op: 'set'; readonly key: string; readonly value: string }
  | { readonly op: 'clear'; readonly key: string }
  | { readonly op: 'clearRange'; readonly begin: string; readonly end: string }
  | { readonly op: 'add'; readonly key: string; readonly value: string };

export interface TransactBody {
  readonly ops: readonly Op[];
  readonly compare?: ReadonlyArray<{ readonly key: string; readonly value: string | null }>;
}

export type OpResult =
  | { value: string | null }
  | { kvs: Array<{ key: string; value: string }>; more: boolean }
  | Record<string, never>;

/**
 * In a tenant's keyspace, keys from `\xfe` on belong to Strata's layers (collections, points,
 * indexes, graphs, and the usage counters that quotas rest on), as FoundationDB keeps `\xff` for
 * itself. Untrusted callers may read them but not write them through the key-value API.
 */
const RESERVED_FROM = 0xfe;

/** Refuse (`ERR_ACCESS_RESERVED_KEYS`) any write op of `body` that touches a tenant's reserved keys. */
export function refuseReservedWrites(body: TransactBody): void {
  const bytes = (k: string) => Buffer.from(k, 'base64');
  const from = Uint8Array.of(RESERVED_FROM);
  const past = Uint8Array.of(0xff);
  // Keys at or past \xff are not reserved but illegal: the transaction refuses them (400) as usual.
  const reserved = (key: Buffer) => Buffer.compare(key, from) >= 0 && Buffer.compare(key, past) < 0;
  for (const [i, op] of body.ops.entries()) {
    let touches = false;
    if (op.op === 'set' || op.op === 'clear' || op.op === 'add') touches = reserved(bytes(op.key));
    else if (op.op === 'clearRange') {
      // [begin, end) reaches a reserved key when it is not empty and ends past \xfe (and not past \xff).
      const [begin, end] = [bytes(op.begin), bytes(op.end)];
      touches = Buffer.compare(begin, end) < 0 && Buffer.compare(end, from) > 0 && Buffer.compare(end, past) <= 0;
    }
    if (touches) {
      throw new StrataError('ERR_ACCESS_RESERVED_KEYS', `ops[${i}] writes at or beyond \\xfe, where Strata's layers keep a tenant's collections and usage; only operators may`, {
        details: { op: i },
      });
    }
  }
}

export const MAX_OPS = 1_000;
export const MAX_COMPARES = 100;
export const MAX_RANGE_LIMIT = 10_000;
/** Most bytes of keys and values one request may read back: bounds memory and answer size. */
export const MAX_RESULT_BYTES = 32 * 1024 * 1024;
/** Rows per engine read inside a range op, so the budget is checked as the read goes. */
const RANGE_CHUNK = 256;

const b64 = (bytes: number) => ({ type: 'string', maxLength: Math.ceil(bytes / 3) * 4, pattern: '^[A-Za-z0-9+/]*={0,2}$' });
const key = b64(LIMITS.keySize + 1);
const value = b64(LIMITS.valueSize);
const opSchema = (op: string, props: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required: ['op', ...required],
  properties: { op: { const: op }, ...props },
});

/** The JSON schema of a transact body, checked by the route before anything runs. */
export const TRANSACT_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['ops'],
  properties: {
    ops: {
      type: 'array',
      maxItems: MAX_OPS,
      items: {
        oneOf: [
          opSchema('get', { key }, ['key']),
          opSchema('getRange', { begin: key, end: key, limit: { type: 'integer', minimum: 1, maximum: MAX_RANGE_LIMIT }, reverse: { type: 'boolean' } }, ['begin', 'end']),
          opSchema('set', { key, value }, ['key', 'value']),
          opSchema('clear', { key }, ['key']),
          opSchema('clearRange', { begin: key, end: key }, ['begin', 'end']),
          opSchema('add', { key, value }, ['key', 'value']),
        ],
      },
    },
    compare: {
      type: 'array',
      maxItems: MAX_COMPARES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'value'],
        properties: { key, value: { anyOf: [value, { type: 'null' }] } },
      },
    },
  },
} as const;

/** Decode canonical base64; anything else (bad padding, stray bits) is refused, not guessed at. */
function decode(text: string, where: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new StrataError('ERR_REQUEST_INVALID', `${where} is not canonical base64`, { details: { path: where } });
  }
  return bytes;
}

const encode = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Decode every key and value of `body` up front, so bad input fails before anything is read or written. */
function decodeBody(body: TransactBody) {
  const compare = (body.compare ?? []).map((c, i) => ({
    key: decode(c.key, `compare[${i}].key`),
    value: c.value === null ? null : decode(c.value, `compare[${i}].value`),
  }));
  const ops = body.ops.map((op, i) => {
    const at = (field: string) => `ops[${i}].${field}`;
    switch (op.op) {
      case 'get':
      case 'clear':
        return { op: op.op, key: decode(op.key, at('key')) } as const;
      case 'set':
      case 'add':
        return { op: op.op, key: decode(op.key, at('key')), value: decode(op.value, at('value')) } as const;
      case 'getRange':
        return { op: op.op, begin: decode(op.begin, at('begin')), end: decode(op.end, at('end')), limit: op.limit, reverse: op.reverse } as const;
      case 'clearRange':
        return { op: op.op, begin: decode(op.begin, at('begin')), end: decode(op.end, at('end')) } as const;
    }
  });
  return { compare, ops };
}

/** Counts the bytes a request reads and refuses to go past the budget. */
class ReadBudget {
  #left: number;
  constructor(bytes: number) {
    this.#left = bytes;
  }
  spend(bytes: number): void {
    this.#left -= bytes;
    if (this.#left < 0) {
      throw new StrataError('ERR_REQUEST_RESULT_TOO_LARGE', `the reads of this request return more than ${MAX_RESULT_BYTES} bytes; read less per request`, {
        details: { maxResultBytes: MAX_RESULT_BYTES },
      });
    }
  }
}

/** A range op, read in chunks so that the budget stops a huge read early rather than after it. */
async function readRange(tx: Transaction, begin: Uint8Array, end: Uint8Array, limit: number, reverse: boolean, budget: ReadBudget) {
  const kvs: Array<{ key: Uint8Array; value: Uint8Array }> = [];
  let lo = begin;
  let hi = end;
  for (;;) {
    const want = Math.min(RANGE_CHUNK, limit - kvs.length);
    const chunk = await tx.getRange(lo, hi, { limit: want, reverse });
    for (const kv of chunk.kvs) budget.spend(kv.key.length + kv.value.length);
    kvs.push(...chunk.kvs);
    const last = chunk.kvs[chunk.kvs.length - 1];
    if (!chunk.more || last === undefined) return { kvs, more: false };
    if (kvs.length >= limit) return { kvs, more: true };
    if (reverse) hi = last.key;
    else lo = keyAfter(last.key);
  }
}

/** Run a transact body on `tx`: compares first, then the ops in order. */
export async function runTransactBody(tx: Transaction, body: TransactBody): Promise<OpResult[]> {
  const { compare, ops } = decodeBody(body);
  const budget = new ReadBudget(MAX_RESULT_BYTES);
  for (const [i, c] of compare.entries()) {
    const current = await tx.get(c.key);
    const holds = c.value === null ? current === undefined : current !== undefined && Buffer.compare(current, c.value) === 0;
    if (!holds) throw new StrataError('ERR_KV_COMPARE_FAILED', `compare[${i}] does not hold`, { details: { index: i } });
  }
  const results: OpResult[] = [];
  for (const op of ops) {
    switch (op.op) {
      case 'get': {
        const v = await tx.get(op.key);
        if (v !== undefined) budget.spend(v.length);
        results.push({ value: v === undefined ? null : encode(v) });
        break;
      }
      case 'getRange': {
        // Without a limit a range read is capped, so one request cannot read without bound.
        const { kvs, more } = await readRange(tx, op.begin, op.end, op.limit ?? MAX_RANGE_LIMIT, op.reverse === true, budget);
        results.push({ kvs: kvs.map(kv => ({ key: encode(kv.key), value: encode(kv.value) })), more });
        break;
      }
      case 'set':
        tx.set(op.key, op.value);
        results.push({});
        break;
      case 'add':
        tx.add(op.key, op.value);
        results.push({});
        break;
      case 'clear':
        tx.clear(op.key);
        results.push({});
        break;
      case 'clearRange':
        tx.clearRange(op.begin, op.end);
        results.push({});
        break;
    }
  }
  return results;
}
