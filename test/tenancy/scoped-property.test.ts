import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStrataError } from '../../src/errors.js';
import { concatBytes, prefixEnd } from '../../src/kv/keys.js';
import { openDatabase } from '../../src/kv/open.js';
import type { Database, KeyValue, RangeOptions, ReadOptions, Transaction } from '../../src/kv/types.js';
import { TENANT_KEY_SIZE_LIMIT } from '../../src/tenancy/layout.js';
import { createTenant, type TenantInfo } from '../../src/tenancy/registry.js';
import { TenantTransaction } from '../../src/tenancy/scoped.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Throws random and hostile keys and ranges at a tenant-scoped transaction and proves that
 * nothing outside the tenant is ever read, written or cleared:
 *  - a recording proxy between the scoped transaction and the engine checks every key and range
 *    that reaches the engine lies within the tenant's prefix, and every key coming back too;
 *  - after every run, the whole keyspace outside the tenant is byte-for-byte what it was;
 *  - inside, the tenant's contents and every read match a simple model, so the confinement is not
 *    bought by dropping operations.
 */

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const cmp = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);
const ALLOWED_ERRORS = ['ERR_KV_KEY_TOO_LARGE', 'ERR_KV_KEY_OUTSIDE_LEGAL_RANGE', 'ERR_KV_INVERTED_RANGE'] as const;

/** Wraps the engine's transaction and fails on any key or range outside [begin, end]. */
function confined(tx: Transaction, begin: Uint8Array, end: Uint8Array, violations: string[]): Transaction {
  const key = (op: string, k: Uint8Array) => {
    if (cmp(k, begin) < 0 || cmp(k, end) >= 0) violations.push(`${op} key ${hex(k)}`);
  };
  const bound = (op: string, k: Uint8Array) => {
    if (cmp(k, begin) < 0 || cmp(k, end) > 0) violations.push(`${op} bound ${hex(k)}`);
  };
  return {
    get(k: Uint8Array, o?: ReadOptions) {
      key('get', k);
      return tx.get(k, o);
    },
    async getRange(b: Uint8Array, e: Uint8Array, o?: RangeOptions) {
      bound('getRange', b);
      bound('getRange', e);
      const r = await tx.getRange(b, e, o);
      for (const kv of r.kvs) key('getRange result', kv.key);
      return r;
    },
    set(k: Uint8Array, v: Uint8Array) {
      key('set', k);
      tx.set(k, v);
    },
    clear(k: Uint8Array) {
      key('clear', k);
      tx.clear(k);
    },
    clearRange(b: Uint8Array, e: Uint8Array) {
      bound('clearRange', b);
      bound('clearRange', e);
      tx.clearRange(b, e);
    },
    add(k: Uint8Array, p: Uint8Array) {
      key('add', k);
      tx.add(k, p);
    },
  };
}

type Op =
  | { op: 'set'; key: Uint8Array; value: Uint8Array }
  | { op: 'clear'; key: Uint8Array }
  | { op: 'clearRange'; begin: Uint8Array; end: Uint8Array }
  | { op: 'get'; key: Uint8Array }
  | { op: 'getRange'; begin: Uint8Array; end: Uint8Array; limit?: number; reverse: boolean };

/** The model: a tenant's keys as hex -> value, with FoundationDB's rules for legal keys. */
class Model {
  readonly data = new Map<string, Uint8Array>();
  legalKey(k: Uint8Array): boolean {
    return k.length <= TENANT_KEY_SIZE_LIMIT && !(k.length > 0 && k[0] === 0xff);
  }
  legalBound(k: Uint8Array): boolean {
    return k.length <= TENANT_KEY_SIZE_LIMIT + 1 && !(k.length > 1 && k[0] === 0xff);
  }
  inRange(b: Uint8Array, e: Uint8Array): KeyValue[] {
    return [...this.data.entries()]
      .map(([h, value]) => ({ key: Buffer.from(h, 'hex') as Uint8Array, value }))
      .filter(kv => cmp(kv.key, b) >= 0 && cmp(kv.key, e) < 0)
      .sort((x, y) => cmp(x.key, y.key));
  }
}

describe('tenant-scoped transaction (property)', () => {
  let db: Database;
  let remove: () => Promise<void>;
  let alpha: TenantInfo;
  let beta: TenantInfo;
  let gamma: TenantInfo;
  let outside: () => Promise<string>;

  beforeAll(async () => {
    const t = await tempDir('strata-scoped');
    remove = t.remove;
    db = await openDatabase({ dataDir: t.dir });
    [alpha, beta, gamma] = await db.transact(async tx => [
      await createTenant(tx, 'alpha'),
      await createTenant(tx, 'beta'),
      await createTenant(tx, 'gamma'),
    ]);
    // Sentinels everywhere a confused prefix could reach: raw keys, neighbours, near-misses.
    await db.transact(async tx => {
      for (const t of [alpha, gamma]) {
        tx.set(t.prefix, Buffer.from('tenant-empty-key'));
        tx.set(concatBytes(t.prefix, Buffer.from('secret')), Buffer.from(`${t.name}-secret`));
        tx.set(concatBytes(t.prefix, Uint8Array.of(0xfe, 0xff)), Buffer.from(`${t.name}-high`));
      }
      tx.set(Buffer.from(''), Buffer.from('raw-empty'));
      tx.set(Buffer.from('raw'), Buffer.from('raw'));
      tx.set(beta.prefix.subarray(0, 8), Buffer.from('prefix-of-beta'));
      tx.set(prefixEnd(beta.prefix), Buffer.from('just-after-beta'));
    });
    // Everything outside beta: before beta's prefix and from its end to \xff.
    outside = async () =>
      db.transact(async tx => {
        const before = await tx.getRange(Buffer.from(''), beta.prefix);
        const after = await tx.getRange(prefixEnd(beta.prefix), Uint8Array.of(0xff));
        return JSON.stringify([...before.kvs, ...after.kvs].map(kv => [hex(kv.key), hex(kv.value)]));
      });
  });
  afterAll(async () => {
    await db.close();
    await remove();
  });

  it('never reads, writes or clears outside the tenant, whatever keys and ranges it is given', async () => {
    const before = await outside();
    const hostile = [
      new Uint8Array(0),
      Uint8Array.of(0x00),
      Uint8Array.of(0xff),
      Uint8Array.of(0xff, 0xff),
      Uint8Array.of(0xfe, 0xff),
      Uint8Array.of(0xfd),
      Uint8Array.of(0xfe),
      alpha.prefix,
      gamma.prefix,
      beta.prefix,
      concatBytes(gamma.prefix, Buffer.from('secret')),
      prefixEnd(beta.prefix),
      new Uint8Array(TENANT_KEY_SIZE_LIMIT).fill(0xfe),
      new Uint8Array(TENANT_KEY_SIZE_LIMIT + 1).fill(0xfe),
      new Uint8Array(TENANT_KEY_SIZE_LIMIT + 2),
    ];
    const key = fc.oneof(fc.constantFrom(...hostile), fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ minLength: 1, maxLength: 3 }).map(b => Uint8Array.of(0xfd, ...b)));
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key, value: fc.uint8Array({ maxLength: 8 }) }),
      fc.record({ op: fc.constant('clear' as const), key }),
      fc.record({ op: fc.constant('clearRange' as const), begin: key, end: key }),
      fc.record({ op: fc.constant('get' as const), key }),
      fc.record(
        { op: fc.constant('getRange' as const), begin: key, end: key, limit: fc.integer({ min: 1, max: 5 }), reverse: fc.boolean() },
        { requiredKeys: ['op', 'begin', 'end', 'reverse'] },
      ),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async ops => {
        const violations: string[] = [];
        const model = new Model();
        await db.transact(async tx => tx.clearRange(beta.prefix, prefixEnd(beta.prefix)));
        await db.transact(async raw => {
          const tx = new TenantTransaction(confined(raw, beta.prefix, prefixEnd(beta.prefix), violations), beta.prefix);
          for (const o of ops) {
            try {
              switch (o.op) {
                case 'set':
                  tx.set(o.key, o.value);
                  model.data.set(hex(o.key), o.value);
                  break;
                case 'clear':
                  tx.clear(o.key);
                  model.data.delete(hex(o.key));
                  break;
                case 'clearRange':
                  tx.clearRange(o.begin, o.end);
                  for (const kv of model.inRange(o.begin, o.end)) model.data.delete(hex(kv.key));
                  break;
                case 'get': {
                  const got = await tx.get(o.key);
                  expect(got === undefined ? undefined : hex(got)).toBe(
                    model.data.has(hex(o.key)) ? hex(model.data.get(hex(o.key))!) : undefined,
                  );
                  break;
                }
                case 'getRange': {
                  const opts = o.limit === undefined ? { reverse: o.reverse } : { limit: o.limit, reverse: o.reverse };
                  const got = await tx.getRange(o.begin, o.end, opts);
                  let want = model.inRange(o.begin, o.end);
                  if (o.reverse) want = want.reverse();
                  const more = o.limit !== undefined && want.length > o.limit;
                  if (o.limit !== undefined) want = want.slice(0, o.limit);
                  expect(got.kvs.map(kv => [hex(kv.key), hex(kv.value)])).toEqual(want.map(kv => [hex(kv.key), hex(kv.value)]));
                  expect(got.more).toBe(more);
                  break;
                }
              }
            } catch (err) {
              // Refusals are fine (and must be the model's refusals); anything else fails the run.
              if (!isStrataError(err, ...ALLOWED_ERRORS)) throw err;
              const keys = 'key' in o ? [o.key] : [o.begin, o.end];
              const legal = 'key' in o ? model.legalKey(o.key) : keys.every(k => model.legalBound(k));
              const inverted = o.op === 'clearRange' && cmp(o.begin, o.end) > 0;
              expect(legal && !inverted, `${o.op} was refused with ${err.code} but is legal`).toBe(false);
            }
          }
        });
        expect(violations).toEqual([]);
        // The committed tenant matches the model.
        const committed = await db.transact(async raw => new TenantTransaction(raw, beta.prefix).getRange(new Uint8Array(0), Uint8Array.of(0xff)));
        expect(committed.kvs.map(kv => [hex(kv.key), hex(kv.value)])).toEqual(
          model.inRange(new Uint8Array(0), Uint8Array.of(0xff)).map(kv => [hex(kv.key), hex(kv.value)]),
        );
        expect(await outside()).toBe(before);
      }),
      { numRuns: 150, seed: 20261124 },
    );
  }, 120_000);
});
