import { isRetryable } from '../../src/kv/transact.js';
import { describe, it, expect } from 'vitest';
import { StrataError } from '../../src/errors.js';
import { contractCodeForFdb, fdbErrorToStrata, mapFdbError } from '../../src/kv/fdb/errors.js';
import { createFdbEngine, openFdbEngine } from '../../src/kv/fdb/engine.js';
import type { FdbBinding, FdbKeySelector, FdbRangeBatch, FdbTransaction, FdbTransactionOptions } from '../../src/kv/fdb/load.js';
import { runTransaction } from '../../src/kv/transact.js';

/** node-foundationdb's FDBError has this shape (lib/error.ts): an Error with a numeric code. */
class FakeFdbError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('FDB error numbers onto contract codes', () => {
  // Pinned pair by pair: a change to FDB_CODES must show up here.
  const table: Array<[number, string]> = [
    [1020, 'ERR_KV_NOT_COMMITTED'],
    [1007, 'ERR_KV_TRANSACTION_TOO_OLD'],
    [1021, 'ERR_KV_COMMIT_UNKNOWN'],
    [1031, 'ERR_KV_TRANSACTION_TIMED_OUT'],
    [2101, 'ERR_KV_TRANSACTION_TOO_LARGE'],
    [2102, 'ERR_KV_KEY_TOO_LARGE'],
    [2103, 'ERR_KV_VALUE_TOO_LARGE'],
    [2004, 'ERR_KV_KEY_OUTSIDE_LEGAL_RANGE'],
    [2005, 'ERR_KV_INVERTED_RANGE'],
    [1025, 'ERR_KV_TRANSACTION_CLOSED'],
  ];

  it.each(table)('maps FDB %i to %s', (fdbCode, code) => {
    expect(contractCodeForFdb(fdbCode)).toBe(code);
    const err = mapFdbError(new FakeFdbError('described by FDB', fdbCode));
    expect(err).toBeInstanceOf(StrataError);
    expect(err).toMatchObject({ code, details: { fdbCode } });
    expect((err as Error).message).toContain('described by FDB');
  });

  it('keeps the retryable flag of the retry loop', () => {
    expect(fdbErrorToStrata(1020, 'x')).toMatchObject({ details: { retryable: true } });
    expect(fdbErrorToStrata(1031, 'x')).toMatchObject({ details: { retryable: false } });
  });

  it('reports codes outside the contract as ERR_KV_ENGINE_FAILED with the FDB number and cause', () => {
    for (const fdbCode of [1500, 2017, 4000]) {
      expect(contractCodeForFdb(fdbCode)).toBeUndefined();
      const original = new FakeFdbError('something else', fdbCode);
      const err = mapFdbError(original);
      expect(err).toMatchObject({ code: 'ERR_KV_ENGINE_FAILED', details: { fdbCode } });
      expect((err as Error).cause).toBe(original);
    }
  });

  it('reports the errors FDB itself retries (throttled, behind) as retryable ERR_KV_CLUSTER_BUSY', async () => {
    for (const fdbCode of [1009, 1037, 1039, 1042, 1051, 1078, 1213]) {
      const err = mapFdbError(new FakeFdbError('busy', fdbCode));
      expect(err).toMatchObject({ code: 'ERR_KV_CLUSTER_BUSY', details: { fdbCode, retryable: true } });
      expect(isRetryable(err)).toBe(true);
    }
  });

  it('keeps the FDB error as cause of mapped contract errors', () => {
    const original = new FakeFdbError('conflict', 1020);
    expect((mapFdbError(original) as Error).cause).toBe(original);
  });

  it('passes errors that are not FDB errors through unchanged', () => {
    const typeError = new TypeError('Invalid arguments');
    const strata = new StrataError('ERR_KV_DATABASE_CLOSED', 'closed');
    const nodeError = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(mapFdbError(typeError)).toBe(typeError);
    expect(mapFdbError(strata)).toBe(strata);
    expect(mapFdbError(nodeError)).toBe(nodeError);
  });
});

const FDB_PACKAGE: string = 'foundationdb';
const fdbLoadable = await import(FDB_PACKAGE).then(
  () => true,
  () => false,
);

describe('loading the foundationdb package', () => {
  it.skipIf(fdbLoadable)(
    'rejects with ERR_KV_ENGINE_UNAVAILABLE naming what to install (skipped where the foundationdb package loads)',
    async () => {
      const p = openFdbEngine('/nonexistent/fdb.cluster');
      await expect(p).rejects.toMatchObject({ code: 'ERR_KV_ENGINE_UNAVAILABLE' });
      const err: unknown = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StrataError);
      const message = (err as Error).message;
      expect(message).toContain('foundationdb-clients');
      expect(message).toContain('libfdb_c');
      expect(message).toContain('npm install foundationdb');
      expect(message).toContain('--data-dir');
      expect((err as Error).cause).toBeDefined();
    },
  );
});

// A stand-in for node-foundationdb over an in-memory sorted store. It has no isolation; it exists to
// test the adapter's own logic. Like FDB it returns ranges in small batches and reports `more`
// whenever the row limit is reached, even when nothing follows.
const BATCH = 2;

interface RangeCall {
  readonly limit: number;
  readonly reverse: boolean;
  readonly snapshot: boolean;
}

function fakeBinding(initial: Record<string, string> = {}) {
  const store = new Map<string, Buffer>(Object.entries(initial).map(([k, v]) => [k, Buffer.from(v)]));
  const log = {
    rangeCalls: [] as RangeCall[],
    created: [] as Array<FdbTransactionOptions | undefined>,
    atomicOps: [] as Array<{ op: number; key: string; param: Buffer }>,
    cancels: 0,
    commitErrors: [] as number[],
    closed: false,
  };
  const sortedKeys = () => [...store.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
  // Resolves the two selectors the adapter uses (first >= key, first > key) to an index.
  const resolve = (keys: string[], sel: FdbKeySelector) =>
    keys.findIndex(k => {
      const c = Buffer.compare(Buffer.from(k, 'latin1'), sel.key);
      return sel.orEqual ? c > 0 : c >= 0;
    });
  const indexOf = (keys: string[], sel: FdbKeySelector) => {
    const i = resolve(keys, sel);
    return i === -1 ? keys.length : i;
  };

  const tx = (snapshot: boolean): FdbTransaction => ({
    get: async key => store.get(key.toString('latin1')),
    snapshot: () => tx(true),
    set: (key, value) => void store.set(key.toString('latin1'), Buffer.from(value)),
    clear: key => void store.delete(key.toString('latin1')),
    clearRange: (begin, end) => {
      for (const k of sortedKeys()) {
        const kb = Buffer.from(k, 'latin1');
        if (Buffer.compare(kb, begin) >= 0 && Buffer.compare(kb, end) < 0) store.delete(k);
      }
    },
    atomicOpNative: (op, key, param) => void log.atomicOps.push({ op, key: key.toString('latin1'), param }),
    getRangeNative: async (start, end, limit, _targetBytes, _mode, _iteration, reverse): Promise<FdbRangeBatch> => {
      log.rangeCalls.push({ limit, reverse, snapshot });
      const keys = sortedKeys();
      let rows = keys.slice(indexOf(keys, start), indexOf(keys, end));
      if (reverse) rows = rows.reverse();
      const n = Math.min(limit === 0 ? Infinity : limit, BATCH);
      const results = rows.slice(0, n).map(k => [Buffer.from(k, 'latin1'), store.get(k)!] as const);
      return { results, more: rows.length > n || results.length === limit };
    },
    rawCommit: async () => {
      const code = log.commitErrors.shift();
      if (code !== undefined) throw new FakeFdbError('commit failed', code);
    },
    rawCancel: () => void log.cancels++,
  });

  const binding: FdbBinding = {
    setAPIVersion: () => undefined,
    open: () => ({
      rawCreateTransaction: options => {
        log.created.push(options);
        return tx(false);
      },
      close: () => void (log.closed = true),
    }),
    StreamingMode: { WantAll: -2 },
    MutationType: { Add: 2 },
  };
  return { binding, store, log };
}

const letters = Object.fromEntries('abcdefg'.split('').map(c => [c, c.toUpperCase()]));

describe('FoundationDB engine over a stand-in binding', () => {
  it('computes `more` exactly by reading limit + 1 rows, all with conflicts, as the embedded engine does', async () => {
    const { binding, log } = fakeBinding(letters);
    const tx = createFdbEngine(binding, 'fdb.cluster').createTransaction(undefined);
    const some = await tx.getRange(bytes('a'), bytes('z'), { limit: 3 });
    expect(some.kvs.map(kv => text(kv.value))).toEqual(['A', 'B', 'C']);
    expect(some.more).toBe(true);
    expect(log.rangeCalls[0]).toMatchObject({ limit: 4, snapshot: false });
    expect(log.rangeCalls.every(c => !c.snapshot)).toBe(true);

    log.rangeCalls.length = 0;
    const all = await tx.getRange(bytes('a'), bytes('z'), { limit: 7 });
    expect(all.kvs.map(kv => text(kv.key))).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(all.more).toBe(false);
    expect(log.rangeCalls.every(c => !c.snapshot)).toBe(true);

    const fewer = await tx.getRange(bytes('b'), bytes('d'), { limit: 5 });
    expect(fewer).toMatchObject({ more: false });
    expect(fewer.kvs).toHaveLength(2);
  });

  it('reads limit + 1 in one pass for a snapshot read', async () => {
    const { binding, log } = fakeBinding(letters);
    const tx = createFdbEngine(binding, 'fdb.cluster').createTransaction(undefined);
    const r = await tx.getRange(bytes('a'), bytes('z'), { limit: 1, snapshot: true });
    expect(r.kvs.map(kv => text(kv.key))).toEqual(['a']);
    expect(r.more).toBe(true);
    expect(log.rangeCalls).toEqual([{ limit: 2, reverse: false, snapshot: true }]);
    const exact = await tx.getRange(bytes('f'), bytes('z'), { limit: 2, snapshot: true });
    expect(exact.more).toBe(false);
  });

  it('reads in reverse with a limit', async () => {
    const { binding, log } = fakeBinding(letters);
    const tx = createFdbEngine(binding, 'fdb.cluster').createTransaction(undefined);
    const r = await tx.getRange(bytes('b'), bytes('f'), { limit: 2, reverse: true });
    expect(r.kvs.map(kv => text(kv.key))).toEqual(['e', 'd']);
    expect(r.more).toBe(true);
    const toBegin = await tx.getRange(bytes('b'), bytes('d'), { limit: 2, reverse: true });
    expect(toBegin.kvs.map(kv => text(kv.key))).toEqual(['c', 'b']);
    expect(toBegin.more).toBe(false);
    const open = await tx.getRange(bytes('a0'), bytes('d'), { limit: 2, reverse: true });
    expect(open.more).toBe(false);
    expect(log.rangeCalls.every(c => c.reverse && !c.snapshot)).toBe(true);
  });

  it('reads the whole range across batches without a limit, as plain Uint8Arrays', async () => {
    const { binding, log } = fakeBinding(letters);
    const tx = createFdbEngine(binding, 'fdb.cluster').createTransaction(undefined);
    const r = await tx.getRange(bytes('b'), bytes('g'), { reverse: true, snapshot: true });
    expect(r.kvs.map(kv => text(kv.key))).toEqual(['f', 'e', 'd', 'c', 'b']);
    expect(r.more).toBe(false);
    expect(log.rangeCalls.every(c => c.limit === 0 && c.snapshot)).toBe(true);
    expect(log.rangeCalls.length).toBeGreaterThan(1);
    expect(Buffer.isBuffer(r.kvs[0]?.key)).toBe(false);
    expect(Buffer.isBuffer(await tx.get(bytes('a')))).toBe(false);
  });

  it('answers an empty or inverted range without asking FDB', async () => {
    const { binding, log } = fakeBinding(letters);
    const tx = createFdbEngine(binding, 'fdb.cluster').createTransaction(undefined);
    expect(await tx.getRange(bytes('c'), bytes('c'))).toEqual({ kvs: [], more: false });
    expect(await tx.getRange(bytes('d'), bytes('c'), { limit: 1 })).toEqual({ kvs: [], more: false });
    expect(log.rangeCalls).toHaveLength(0);
  });

  it('checks arguments as the embedded engine does', async () => {
    const { binding } = fakeBinding();
    const tx = createFdbEngine(binding, 'fdb.cluster').createTransaction(undefined);
    await expect(tx.get(new Uint8Array(1978))).rejects.toMatchObject({ code: 'ERR_KV_KEY_TOO_LARGE' });
    await expect(tx.get(Uint8Array.of(0xff, 1))).rejects.toMatchObject({ code: 'ERR_KV_KEY_OUTSIDE_LEGAL_RANGE' });
    await expect(tx.getRange(bytes('a'), Uint8Array.of(0xff, 0))).rejects.toMatchObject({ code: 'ERR_KV_KEY_OUTSIDE_LEGAL_RANGE' });
    await expect(tx.getRange(bytes('a'), bytes('b'), { limit: 0 })).rejects.toBeInstanceOf(RangeError);
    expect(() => tx.set(bytes('k'), new Uint8Array(100_001))).toThrow(expect.objectContaining({ code: 'ERR_KV_VALUE_TOO_LARGE' }));
    expect(() => tx.clearRange(bytes('b'), bytes('a'))).toThrow(expect.objectContaining({ code: 'ERR_KV_INVERTED_RANGE' }));
    expect(() => tx.add(bytes('k'), new Uint8Array(100_001))).toThrow(expect.objectContaining({ code: 'ERR_KV_VALUE_TOO_LARGE' }));
    // The end of the legal keyspace is a legal range end.
    await expect(tx.getRange(bytes(''), Uint8Array.of(0xff))).resolves.toEqual({ kvs: [], more: false });
  });

  it('sends add as FDB ADD with the raw param bytes', () => {
    const { binding, log } = fakeBinding();
    const tx = createFdbEngine(binding, 'fdb.cluster').createTransaction(undefined);
    tx.add(bytes('n'), Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    expect(log.atomicOps).toEqual([{ op: 2, key: 'n', param: Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]) }]);
  });

  it('refuses use after commit or cancel; cancel is idempotent', async () => {
    const { binding, log } = fakeBinding();
    const engine = createFdbEngine(binding, 'fdb.cluster');
    const committed = engine.createTransaction(undefined);
    committed.set(bytes('k'), bytes('v'));
    await committed.commit();
    await expect(committed.get(bytes('k'))).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_CLOSED' });
    expect(() => committed.set(bytes('k'), bytes('v'))).toThrow(expect.objectContaining({ code: 'ERR_KV_TRANSACTION_CLOSED' }));
    await expect(committed.commit()).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_CLOSED' });
    committed.cancel();
    expect(log.cancels).toBe(0);

    const cancelled = engine.createTransaction(undefined);
    cancelled.cancel();
    cancelled.cancel();
    expect(log.cancels).toBe(1);
    await expect(cancelled.getRange(bytes('a'), bytes('b'))).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_CLOSED' });
    expect(() => cancelled.clear(bytes('k'))).toThrow(expect.objectContaining({ code: 'ERR_KV_TRANSACTION_CLOSED' }));
  });

  it('maps commit failures, so the shared loop retries conflicts', async () => {
    const { binding, log, store } = fakeBinding();
    const engine = createFdbEngine(binding, 'fdb.cluster');
    log.commitErrors.push(1020, 1020);
    let attempts = 0;
    await runTransaction(engine, async tx => {
      attempts++;
      tx.set(bytes('k'), bytes('v'));
    });
    expect(attempts).toBe(3);
    expect(store.get('k')?.toString()).toBe('v');
    log.commitErrors.push(2101);
    await expect(runTransaction(engine, async () => undefined)).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TOO_LARGE' });
  });

  it('turns a deadline into FDB’s timeout, or times out without asking FDB once it has passed', async () => {
    const { binding, log } = fakeBinding();
    const engine = createFdbEngine(binding, 'fdb.cluster');
    engine.createTransaction(undefined);
    engine.createTransaction(Date.now() + 5_000);
    expect(log.created[0]).toBeUndefined();
    const timeout = log.created[1]?.timeout ?? 0;
    expect(timeout).toBeGreaterThan(4_000);
    expect(timeout).toBeLessThanOrEqual(5_000);

    const late = engine.createTransaction(Date.now() - 1);
    expect(log.created).toHaveLength(2);
    await expect(late.get(bytes('k'))).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TIMED_OUT' });
    expect(() => late.set(bytes('k'), bytes('v'))).toThrow(expect.objectContaining({ code: 'ERR_KV_TRANSACTION_TIMED_OUT' }));
    await expect(late.commit()).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TIMED_OUT' });

    // A deadline that passes during the transaction fails writes at once, as on the embedded engine.
    const soon = engine.createTransaction(Date.now() + 20);
    soon.set(bytes('k'), bytes('v'));
    await new Promise(resolve => setTimeout(resolve, 30));
    expect(() => soon.set(bytes('k'), bytes('v'))).toThrow(expect.objectContaining({ code: 'ERR_KV_TRANSACTION_TIMED_OUT' }));
  });

  it('closes the database once, after in-flight commits, and refuses new transactions', async () => {
    const { binding, log } = fakeBinding();
    const engine = createFdbEngine(binding, 'fdb.cluster');
    const tx = engine.createTransaction(undefined);
    const commit = tx.commit();
    const closing = engine.close();
    await commit;
    await closing;
    await engine.close();
    expect(log.closed).toBe(true);
    expect(() => engine.createTransaction(undefined)).toThrow(expect.objectContaining({ code: 'ERR_KV_DATABASE_CLOSED' }));
  });
});
