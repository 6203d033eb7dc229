import { expect, it } from 'vitest';
import type { Transaction } from '../../src/kv/types.js';
import { readU64, sleep, u64 } from '../helpers/bytes.js';
import { gate } from '../helpers/gate.js';
import { conformance } from './setup.js';


conformance('isolation', ctx => {
  it('two read-modify-writes of one key: one commits first, the other retries and sees its value', async () => {
    await ctx.db.transact(async tx => tx.set(ctx.k('n'), u64(100)));
    const bothRead = [gate(), gate()];
    const attempts = [0, 0];
    const seen: bigint[][] = [[], []];
    const worker = (i: 0 | 1, addend: number) =>
      ctx.db.transact(async tx => {
        attempts[i]!++;
        const n = readU64(await tx.get(ctx.k('n')));
        seen[i]!.push(n);
        if (attempts[i] === 1) {
          // Both first attempts read 100 before either writes.
          bothRead[i]!.open();
          await Promise.all(bothRead.map(g => g.wait));
        }
        tx.set(ctx.k('n'), u64(n + BigInt(addend)));
      });
    await Promise.all([worker(0, 1), worker(1, 10)]);
    const final = await ctx.db.transact(async tx => readU64(await tx.get(ctx.k('n'))));
    expect(final).toBe(111n);
    const winner = attempts[0] === 1 ? 0 : 1;
    const loser = 1 - winner;
    expect(attempts[winner]).toBe(1);
    // The loser retries, more than once if a retry starts before the winner's commit is durable
    // (then it reads the old value again and conflicts again), and commits on the winner's value.
    expect(attempts[loser]).toBeGreaterThanOrEqual(2);
    expect(seen[loser]!.at(-1)).toBe(winner === 0 ? 101n : 110n);
  });

  it('a range read conflicts with a later insert into that range', async () => {
    let attempts = 0;
    const read = gate();
    const inserted = gate();
    const reader = ctx.db.transact(async tx => {
      attempts++;
      const { kvs } = await tx.getRange(ctx.k('r/'), ctx.k('r0'));
      if (attempts === 1) {
        read.open();
        await inserted.wait;
      }
      tx.set(ctx.k('count'), u64(kvs.length));
    });
    await read.wait;
    await ctx.db.transact(async tx => tx.set(ctx.k('r/new'), u64(1)));
    inserted.open();
    await reader;
    expect(attempts).toBe(2);
    expect(await ctx.db.transact(async tx => readU64(await tx.get(ctx.k('count'))))).toBe(1n);
  });

  it('a limited read that reports more conflicts with removing the row behind `more` (no write skew)', async () => {
    await ctx.db.transact(async tx => {
      tx.set(ctx.k('r/a'), u64(1));
      tx.set(ctx.k('r/b'), u64(1));
    });
    let attempts = 0;
    const read = gate();
    const removed = gate();
    // T1: if more rows follow the first, set the flag. T2: if the flag is unset, remove the second row.
    const t1 = ctx.db.transact(async tx => {
      attempts++;
      const { more } = await tx.getRange(ctx.k('r/'), ctx.k('r0'), { limit: 1 });
      if (attempts === 1) {
        read.open();
        await removed.wait;
      }
      if (more) tx.set(ctx.k('flag'), u64(1));
    });
    await read.wait;
    await ctx.db.transact(async tx => {
      if ((await tx.get(ctx.k('flag'))) === undefined) tx.clear(ctx.k('r/b'));
    });
    removed.open();
    await t1;
    // Serially, either the flag is unset and r/b gone, or the flag set and r/b kept: never both.
    const state = await ctx.db.transact(async tx => ({
      flag: (await tx.get(ctx.k('flag'))) !== undefined,
      rows: (await tx.getRange(ctx.k('r/'), ctx.k('r0'))).kvs.length,
    }));
    expect(attempts).toBe(2);
    expect(state).toEqual({ flag: false, rows: 1 });
  });

  it('snapshot reads add no conflict', async () => {
    await ctx.db.transact(async tx => tx.set(ctx.k('watched'), u64(1)));
    let attempts = 0;
    const read = gate();
    const written = gate();
    const reader = ctx.db.transact(async tx => {
      attempts++;
      await tx.get(ctx.k('watched'), { snapshot: true });
      await tx.getRange(ctx.k('watched'), ctx.k('watchee'), { snapshot: true });
      if (attempts === 1) {
        read.open();
        await written.wait;
      }
      tx.set(ctx.k('other'), u64(1));
    });
    await read.wait;
    await ctx.db.transact(async tx => tx.set(ctx.k('watched'), u64(2)));
    written.open();
    await reader;
    expect(attempts).toBe(1);
  });

  it('reads within one transaction see one snapshot, even while others commit', async () => {
    await ctx.db.transact(async tx => tx.set(ctx.k('v'), u64(1)));
    const firstRead = gate();
    const committed = gate();
    const reads = ctx.db.transact(async tx => {
      const a = readU64(await tx.get(ctx.k('v')));
      firstRead.open();
      await committed.wait;
      const b = readU64(await tx.get(ctx.k('v')));
      const c = (await tx.getRange(ctx.k('v'), ctx.k('w'))).kvs.map(kv => readU64(kv.value));
      return [a, b, c];
    });
    await firstRead.wait;
    await ctx.db.transact(async tx => tx.set(ctx.k('v'), u64(2)));
    committed.open();
    expect(await reads).toEqual([1n, 1n, [1n]]);
  });

  it('atomic add under contention: N concurrent increments end at exactly N, none retried', async () => {
    const n = 200;
    let attempts = 0;
    await Promise.all(
      Array.from({ length: n }, () =>
        ctx.db.transact(async tx => {
          attempts++;
          tx.add(ctx.k('counter'), u64(1));
        }),
      ),
    );
    expect(await ctx.db.transact(async tx => readU64(await tx.get(ctx.k('counter'))))).toBe(BigInt(n));
    expect(attempts).toBe(n);
  });

  it('bank transfers: 16 workers, 100 accounts; the total never changes and no read sees a partial transfer', async () => {
    const accounts = 100;
    const initial = 1000n;
    const transfers = 3000;
    const account = (i: number) => ctx.k(`acct/${String(i).padStart(3, '0')}`);
    await ctx.db.transact(async tx => {
      for (let i = 0; i < accounts; i++) tx.set(account(i), u64(initial));
    });
    const total = initial * BigInt(accounts);
    // Seeded so that a failure reproduces.
    let seed = 42;
    const rand = (m: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % m;
    };
    let remaining = transfers;
    let audits = 0;
    const sums: bigint[] = [];
    const move = (tx: Transaction, from: number, to: number, amount: bigint) =>
      Promise.all([tx.get(account(from)), tx.get(account(to))]).then(([a, b]) => {
        const fromBalance = readU64(a);
        if (fromBalance < amount) return;
        tx.set(account(from), u64(fromBalance - amount));
        tx.set(account(to), u64(readU64(b) + amount));
      });
    const worker = async () => {
      while (remaining > 0) {
        remaining--;
        const from = rand(accounts);
        const to = (from + 1 + rand(accounts - 1)) % accounts;
        const amount = BigInt(1 + rand(200));
        await ctx.db.transact(tx => move(tx, from, to, amount));
      }
    };
    const auditor = async () => {
      while (remaining > 0) {
        const sum = await ctx.db.transact(async tx => {
          const { kvs } = await tx.getRange(ctx.k('acct/'), ctx.k('acct0'));
          return kvs.reduce((s, kv) => s + readU64(kv.value), 0n);
        });
        sums.push(sum);
        audits++;
        await sleep(1);
      }
    };
    await Promise.all([...Array.from({ length: 16 }, worker), auditor(), auditor()]);
    const final = await ctx.db.transact(async tx => (await tx.getRange(ctx.k('acct/'), ctx.k('acct0'))).kvs.map(kv => readU64(kv.value)));
    expect(final).toHaveLength(accounts);
    expect(final.reduce((s, v) => s + v, 0n)).toBe(total);
    expect(audits).toBeGreaterThan(0);
    expect(sums.every(s => s === total)).toBe(true);
  });
});
