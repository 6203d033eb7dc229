import { expect, it } from 'vitest';
import { LIMITS } from '../../src/kv/limits.js';
import type { TransactOptions } from '../../src/kv/types.js';
import { enc, readU64, sleep, u64 } from '../helpers/bytes.js';
import { gate } from '../helpers/gate.js';
import { conformance } from './setup.js';

conformance('limits and their error codes', (ctx, engine) => {
  const codeOf = { fdbCode: expect.any(Number) };

  it('accepts a key at the size limit and refuses one byte more with ERR_KV_KEY_TOO_LARGE (2102)', async () => {
    const room = LIMITS.keySize - ctx.prefix.length;
    await ctx.db.transact(async tx => tx.set(ctx.k(new Uint8Array(room).fill(7)), enc('ok')));
    for (const op of ['set', 'get', 'clear', 'add'] as const) {
      await expect(
        ctx.db.transact(async tx => {
          const key = ctx.k(new Uint8Array(room + 1).fill(7));
          if (op === 'get') await tx.get(key);
          else if (op === 'set') tx.set(key, enc('x'));
          else if (op === 'add') tx.add(key, enc('x'));
          else tx.clear(key);
        }),
      ).rejects.toMatchObject({ code: 'ERR_KV_KEY_TOO_LARGE', details: { ...codeOf, fdbCode: 2102 } });
    }
    // A range may end just past the longest key.
    const longest = ctx.k(new Uint8Array(room).fill(7));
    const { kvs } = await ctx.db.transact(tx => tx.getRange(longest, ctx.k(new Uint8Array(room + 1).fill(7))));
    expect(kvs).toHaveLength(1);
    const reversed = await ctx.db.transact(tx => tx.getRange(ctx.k(''), ctx.k(new Uint8Array(room + 1).fill(7)), { reverse: true }));
    expect(reversed.kvs).toHaveLength(1);
    await ctx.db.transact(async tx => tx.clearRange(longest, ctx.k(new Uint8Array(room + 1).fill(7))));
    expect(await ctx.db.transact(tx => tx.get(longest))).toBeUndefined();
  });

  it('accepts a 100,000-byte value and refuses one byte more with ERR_KV_VALUE_TOO_LARGE (2103)', async () => {
    await ctx.db.transact(async tx => tx.set(ctx.k('v'), new Uint8Array(LIMITS.valueSize)));
    await expect(ctx.db.transact(async tx => tx.set(ctx.k('w'), new Uint8Array(LIMITS.valueSize + 1)))).rejects.toMatchObject({
      code: 'ERR_KV_VALUE_TOO_LARGE',
      details: { fdbCode: 2103 },
    });
    expect((await ctx.db.transact(tx => tx.get(ctx.k('v'))))?.length).toBe(LIMITS.valueSize);
    expect(await ctx.db.transact(tx => tx.get(ctx.k('w')))).toBeUndefined();
  });

  it('refuses a transaction over 10,000,000 bytes with ERR_KV_TRANSACTION_TOO_LARGE (2101), writing nothing', async () => {
    await expect(
      ctx.db.transact(async tx => {
        for (let i = 0; i < 101; i++) tx.set(ctx.k(`big/${i}`), new Uint8Array(LIMITS.valueSize));
      }),
    ).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TOO_LARGE', details: { fdbCode: 2101 } });
    const { kvs } = await ctx.db.transact(tx => tx.getRange(ctx.k('big/'), ctx.k('big0')));
    expect(kvs).toEqual([]);
  });

  it('refuses keys at or beyond \\xff with ERR_KV_KEY_OUTSIDE_LEGAL_RANGE (2004)', async () => {
    for (const key of [Uint8Array.from([0xff]), Uint8Array.from([0xff, 0x00, 0x01])]) {
      await expect(ctx.db.transact(async tx => tx.set(key, enc('x')))).rejects.toMatchObject({
        code: 'ERR_KV_KEY_OUTSIDE_LEGAL_RANGE',
        details: { fdbCode: 2004 },
      });
      await expect(ctx.db.transact(tx => tx.get(key))).rejects.toMatchObject({ code: 'ERR_KV_KEY_OUTSIDE_LEGAL_RANGE' });
    }
    await expect(ctx.db.transact(tx => tx.getRange(enc(''), Uint8Array.from([0xff, 0xff])))).rejects.toMatchObject({
      code: 'ERR_KV_KEY_OUTSIDE_LEGAL_RANGE',
    });
    // \xff itself is the end of the legal keyspace, a valid range end.
    await ctx.db.transact(tx => tx.getRange(ctx.k('a'), Uint8Array.from([0xff]), { limit: 1 }));
  });

  it('refuses an inverted clearRange with ERR_KV_INVERTED_RANGE (2005)', async () => {
    await expect(ctx.db.transact(async tx => tx.clearRange(ctx.k('b'), ctx.k('a')))).rejects.toMatchObject({
      code: 'ERR_KV_INVERTED_RANGE',
      details: { fdbCode: 2005 },
    });
  });

  it('times out a transaction past its timeout with ERR_KV_TRANSACTION_TIMED_OUT (1031), not retried', async () => {
    let attempts = 0;
    await expect(
      ctx.db.transact(
        async tx => {
          attempts++;
          await sleep(150);
          await tx.get(ctx.k('x'));
        },
        { timeoutMs: 50 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TIMED_OUT', details: { fdbCode: 1031, retryable: false } });
    expect(attempts).toBe(1);
  });

  it('refuses reads and commits past the MVCC window with ERR_KV_TRANSACTION_TOO_OLD (1007), retryable', async () => {
    await ctx.db.transact(async tx => tx.set(ctx.k('x'), enc('1')));
    await expect(
      ctx.db.transact(
        async tx => {
          await tx.get(ctx.k('x'));
          await sleep(engine.mvccWindowMs + 300);
          await tx.get(ctx.k('y'));
        },
        { retryLimit: 0 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TOO_OLD', details: { fdbCode: 1007, retryable: true } });
    await expect(
      ctx.db.transact(
        async tx => {
          await tx.get(ctx.k('x'));
          await sleep(engine.mvccWindowMs + 300);
          tx.set(ctx.k('y'), enc('2'));
        },
        { retryLimit: 0 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TOO_OLD' });
    expect(await ctx.db.transact(tx => tx.get(ctx.k('y')))).toBeUndefined();
  }, 30_000);

  it('keeps a transaction that became too old failed for good, so a caught error cannot lead to a lost update', async () => {
    await ctx.db.transact(async tx => tx.set(ctx.k('x'), u64(0)));
    const read = gate();
    const written = gate();
    const t1 = ctx.db.transact(
      async tx => {
        const x = readU64(await tx.get(ctx.k('x')));
        read.open();
        await written.wait;
        await sleep(engine.mvccWindowMs + 300);
        // A careless caller swallows the error and carries on.
        await tx.get(ctx.k('y')).catch(() => undefined);
        await expect(tx.get(ctx.k('y'))).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TOO_OLD' });
        tx.set(ctx.k('x'), u64(x + 1n));
      },
      { retryLimit: 0 },
    );
    await read.wait;
    await ctx.db.transact(async tx => tx.set(ctx.k('x'), u64(5)));
    written.open();
    await expect(t1).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TOO_OLD' });
    expect(await ctx.db.transact(async tx => readU64(await tx.get(ctx.k('x'))))).toBe(5n);
  }, 30_000);

  /** A transaction that conflicts on every attempt: another one changes what it read, every time. */
  function alwaysConflicting(options: TransactOptions): { run: Promise<void>; attempts: () => number } {
    let attempts = 0;
    const run = ctx.db.transact(async tx => {
      attempts++;
      await tx.get(ctx.k('hot'));
      await ctx.db.transact(async other => other.set(ctx.k('hot'), enc(String(attempts))));
      tx.set(ctx.k('mine'), enc('x'));
    }, options);
    return { run, attempts: () => attempts };
  }

  it('reports ERR_KV_TRANSACTION_TIMED_OUT, not the last conflict, when retries run past the timeout', async () => {
    const t = alwaysConflicting({ timeoutMs: 250 });
    await expect(t.run).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_TIMED_OUT' });
    expect(t.attempts()).toBeGreaterThan(1);
  });

  it('gives up after retryLimit retries of a conflict and throws ERR_KV_NOT_COMMITTED (1020)', async () => {
    const t = alwaysConflicting({ retryLimit: 2 });
    await expect(t.run).rejects.toMatchObject({ code: 'ERR_KV_NOT_COMMITTED', details: { fdbCode: 1020, retryable: true } });
    expect(t.attempts()).toBe(3);
    expect(await ctx.db.transact(tx => tx.get(ctx.k('mine')))).toBeUndefined();
  });
});
