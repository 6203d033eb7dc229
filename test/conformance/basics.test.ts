import { expect, it } from 'vitest';
import { keyAfter } from '../../src/kv/keys.js';
import { dec, enc, readU64, u64 } from '../helpers/bytes.js';
import { conformance } from './setup.js';

conformance('ordering and range reads', ctx => {
  const names = ['', '\x00', '\x00\x00', '\x00\xff', '\x01', 'a', 'a\x00', 'a\x00\x00', 'aa', 'ab', 'b', '\xfe', '\xfe\xff\xff'];

  async function load(): Promise<void> {
    // Insert in a scrambled order: the store, not the insertion, must order them.
    const scrambled = [...names].sort((a, b) => (a.length * 7 + a.charCodeAt(0)) % 5 - (b.length * 7 + b.charCodeAt(0)) % 5);
    await ctx.db.transact(async tx => {
      for (const n of scrambled) tx.set(ctx.k(n), enc(`v:${n}`));
    });
  }
  const all = () => ctx.db.transact(tx => tx.getRange(ctx.k(''), ctx.k('\xff')));
  const strip = (key: Uint8Array) => dec(key.subarray(ctx.prefix.length));

  it('orders binary keys bytewise, shorter first on a common prefix', async () => {
    await load();
    const { kvs, more } = await all();
    expect(kvs.map(kv => strip(kv.key))).toEqual(names);
    expect(kvs.map(kv => dec(kv.value))).toEqual(names.map(n => `v:${n}`));
    expect(more).toBe(false);
  });

  it('reads [begin, end): begin included, end excluded', async () => {
    await load();
    const { kvs } = await ctx.db.transact(tx => tx.getRange(ctx.k('a'), ctx.k('ab')));
    expect(kvs.map(kv => strip(kv.key))).toEqual(['a', 'a\x00', 'a\x00\x00', 'aa']);
  });

  it('returns nothing for an empty or inverted range', async () => {
    await load();
    const [same, inverted] = await ctx.db.transact(async tx => [
      await tx.getRange(ctx.k('a'), ctx.k('a')),
      await tx.getRange(ctx.k('b'), ctx.k('a')),
    ]);
    expect(same).toEqual({ kvs: [], more: false });
    expect(inverted).toEqual({ kvs: [], more: false });
  });

  it('honours limit and reports more only when pairs remain', async () => {
    await load();
    const r = await ctx.db.transact(async tx => ({
      two: await tx.getRange(ctx.k(''), ctx.k('\xff'), { limit: 2 }),
      exact: await tx.getRange(ctx.k('a'), ctx.k('ab'), { limit: 4 }),
      over: await tx.getRange(ctx.k('a'), ctx.k('ab'), { limit: 100 }),
    }));
    expect(r.two.kvs.map(kv => strip(kv.key))).toEqual(['', '\x00']);
    expect(r.two.more).toBe(true);
    expect(r.exact.kvs).toHaveLength(4);
    expect(r.exact.more).toBe(false);
    expect(r.over.kvs).toHaveLength(4);
    expect(r.over.more).toBe(false);
  });

  it('reads in reverse, with and without a limit', async () => {
    await load();
    const r = await ctx.db.transact(async tx => ({
      rev: await tx.getRange(ctx.k('a'), ctx.k('b'), { reverse: true }),
      revLimited: await tx.getRange(ctx.k(''), ctx.k('\xff'), { reverse: true, limit: 3 }),
      revBoundary: await tx.getRange(ctx.k('a'), keyAfter(ctx.k('aa')), { reverse: true, limit: 1 }),
    }));
    expect(r.rev.kvs.map(kv => strip(kv.key))).toEqual(['ab', 'aa', 'a\x00\x00', 'a\x00', 'a']);
    expect(r.revLimited.kvs.map(kv => strip(kv.key))).toEqual(['\xfe\xff\xff', '\xfe', 'b']);
    expect(r.revLimited.more).toBe(true);
    expect(r.revBoundary.kvs.map(kv => strip(kv.key))).toEqual(['aa']);
  });

  it('refuses a limit that is not a positive integer', async () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      await expect(ctx.db.transact(tx => tx.getRange(ctx.k('a'), ctx.k('b'), { limit }))).rejects.toThrow(RangeError);
    }
  });

  it('clearRange removes exactly [begin, end)', async () => {
    await load();
    await ctx.db.transact(async tx => tx.clearRange(ctx.k('a\x00'), ctx.k('ab')));
    const { kvs } = await all();
    expect(kvs.map(kv => strip(kv.key))).toEqual(names.filter(n => !['a\x00', 'a\x00\x00', 'aa'].includes(n)));
  });
});

conformance('read-your-writes', ctx => {
  it('sees its own sets, clears and clearRanges before commit, in point and range reads', async () => {
    await ctx.db.transact(async tx => {
      for (const n of ['a', 'b', 'c', 'd', 'e']) tx.set(ctx.k(n), enc(`old-${n}`));
    });
    const seen = await ctx.db.transact(async tx => {
      tx.set(ctx.k('b'), enc('new-b'));
      tx.set(ctx.k('bb'), enc('new-bb'));
      tx.clear(ctx.k('a'));
      tx.clearRange(ctx.k('c'), ctx.k('e'));
      tx.set(ctx.k('d'), enc('reborn-d'));
      return {
        a: dec(await tx.get(ctx.k('a'))),
        b: dec(await tx.get(ctx.k('b'))),
        c: dec(await tx.get(ctx.k('c'))),
        d: dec(await tx.get(ctx.k('d'))),
        range: (await tx.getRange(ctx.k(''), ctx.k('\xff'))).kvs.map(kv => dec(kv.value)),
        reversed: (await tx.getRange(ctx.k(''), ctx.k('\xff'), { reverse: true, limit: 2 })).kvs.map(kv => dec(kv.value)),
      };
    });
    expect(seen).toEqual({
      a: undefined,
      b: 'new-b',
      c: undefined,
      d: 'reborn-d',
      range: ['new-b', 'new-bb', 'reborn-d', 'old-e'],
      reversed: ['old-e', 'reborn-d'],
    });
    const after = await ctx.db.transact(tx => tx.getRange(ctx.k(''), ctx.k('\xff')));
    expect(after.kvs.map(kv => dec(kv.value))).toEqual(['new-b', 'new-bb', 'reborn-d', 'old-e']);
  });

  it('applies atomic add over stored, written, cleared and missing values', async () => {
    await ctx.db.transact(async tx => tx.set(ctx.k('stored'), u64(40)));
    const seen = await ctx.db.transact(async tx => {
      tx.add(ctx.k('stored'), u64(2));
      tx.set(ctx.k('written'), u64(7));
      tx.add(ctx.k('written'), u64(3));
      tx.add(ctx.k('missing'), u64(5));
      tx.add(ctx.k('missing'), u64(5));
      tx.clear(ctx.k('stored2'));
      tx.add(ctx.k('stored2'), u64(1));
      return {
        stored: readU64(await tx.get(ctx.k('stored'))),
        written: readU64(await tx.get(ctx.k('written'))),
        missing: readU64(await tx.get(ctx.k('missing'))),
        inRange: (await tx.getRange(ctx.k('stored'), ctx.k('stored\xff'))).kvs.map(kv => readU64(kv.value)),
      };
    });
    expect(seen).toEqual({ stored: 42n, written: 10n, missing: 10n, inRange: [42n, 1n] });
    const after = await ctx.db.transact(async tx => readU64(await tx.get(ctx.k('stored'))));
    expect(after).toBe(42n);
  });

  it('add uses the parameter width: shorter values are zero-extended, longer truncated, carry wraps', async () => {
    await ctx.db.transact(async tx => {
      tx.set(ctx.k('short'), Uint8Array.from([0xff]));
      tx.set(ctx.k('long'), Uint8Array.from([1, 2, 3, 4]));
      tx.set(ctx.k('wrap'), Uint8Array.from([0xff, 0xff]));
    });
    await ctx.db.transact(async tx => {
      tx.add(ctx.k('short'), Uint8Array.from([1, 0, 0]));
      tx.add(ctx.k('long'), Uint8Array.from([1, 1]));
      tx.add(ctx.k('wrap'), Uint8Array.from([1, 0]));
    });
    const got = await ctx.db.transact(async tx => [
      [...((await tx.get(ctx.k('short'))) ?? [])],
      [...((await tx.get(ctx.k('long'))) ?? [])],
      [...((await tx.get(ctx.k('wrap'))) ?? [])],
    ]);
    expect(got).toEqual([[0, 1, 0], [2, 3], [0, 0]]);
  });

  it('sums many adds to one key in one transaction, across widths and wrapping', async () => {
    await ctx.db.transact(async tx => {
      // 20,000 adds to one counter (a bulk delete's count): the sum, not a pending list, is kept.
      for (let i = 0; i < 20_000; i++) tx.add(ctx.k('many'), u64(1));
      tx.add(ctx.k('many'), Uint8Array.from([0xff, 0xff])); // 2 bytes wide: 20,000 + 65,535 mod 2^16
      for (let i = 0; i < 3; i++) tx.add(ctx.k('many'), u64(2));
    });
    const v = await ctx.db.transact(tx => tx.get(ctx.k('many')));
    expect(Buffer.from(v ?? []).readBigUInt64LE()).toBe(BigInt(((20_000 + 65_535) % 65_536) + 6));
  });

  it('does not let a caller change a buffered write by mutating its array', async () => {
    const value = enc('original');
    await ctx.db.transact(async tx => {
      tx.set(ctx.k('x'), value);
      value.fill(0x21);
      const read = await tx.get(ctx.k('x'));
      read?.fill(0x22);
    });
    expect(dec(await ctx.db.transact(tx => tx.get(ctx.k('x'))))).toBe('original');
  });

  it('commits nothing when the function throws, and throws the error unchanged', async () => {
    const boom = new Error('boom');
    await expect(
      ctx.db.transact(async tx => {
        tx.set(ctx.k('x'), enc('1'));
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await ctx.db.transact(tx => tx.get(ctx.k('x')))).toBeUndefined();
  });

  it('refuses use of a transaction after it committed', async () => {
    let leaked: { get(k: Uint8Array): Promise<unknown>; set(k: Uint8Array, v: Uint8Array): void } | undefined;
    await ctx.db.transact(async tx => {
      leaked = tx;
    });
    await expect(leaked!.get(ctx.k('x'))).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_CLOSED' });
    expect(() => leaked!.set(ctx.k('x'), enc('1'))).toThrow(expect.objectContaining({ code: 'ERR_KV_TRANSACTION_CLOSED' }));
  });
});
