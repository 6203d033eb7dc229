import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { openDatabase } from '../src/kv/open.js';
import { concurrentThroughput, printJson, printTable, throughput, type Row } from './report.js';

/**
 * The key-value layer against raw `lmdb` on the same data in the same run:
 *  - point reads through transactions vs `lmdb` `get`;
 *  - durable read-modify-write commits with 1, 16 and 64 concurrent writers vs the same number of
 *    concurrent awaited `lmdb` `put`s (same durability settings: acknowledged once synced);
 *  - range reads (keys/s) vs `lmdb` `getRange`.
 */
export async function benchKv(quick: boolean): Promise<void> {
  const keys = quick ? 20_000 : 100_000;
  const phaseMs = quick ? 1_500 : 4_000;
  const value = Buffer.alloc(100, 7);
  const keyOf = (i: number) => Buffer.from(`key/${String(i).padStart(9, '0')}`);
  const dirs = await Promise.all([mkdtemp(join(tmpdir(), 'bench-strata-')), mkdtemp(join(tmpdir(), 'bench-lmdb-'))]);
  const db = await openDatabase({ dataDir: dirs[0] });
  // The baseline uses the same LMDB settings as the embedded engine.
  const raw = openLmdb<Buffer, Buffer>({ path: dirs[1], keyEncoding: 'binary', encoding: 'binary', overlappingSync: false });
  try {
    for (let i = 0; i < keys; i += 5_000) {
      await db.transact(async tx => {
        for (let j = i; j < Math.min(keys, i + 5_000); j++) tx.set(keyOf(j), value);
      });
      await raw.transaction(() => {
        for (let j = i; j < Math.min(keys, i + 5_000); j++) raw.putSync(keyOf(j), value);
      });
    }
    let seed = 1;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % keys;
    };
    const randomKeys = Array.from({ length: 4096 }, () => keyOf(rand()));
    let k = 0;
    const nextKey = () => randomKeys[k++ & 4095] as Buffer;

    // Point reads. Ours: 100 awaited gets per transaction, as a layer reading several keys does.
    const perTx = 100;
    const rawReads = await throughput(phaseMs, () => {
      for (let i = 0; i < perTx; i++) raw.get(nextKey());
      return perTx;
    });
    const reads = await throughput(phaseMs, () =>
      db.transact(async tx => {
        for (let i = 0; i < perTx; i++) await tx.get(nextKey());
        return perTx;
      }),
    );
    const singleGetTx = await throughput(phaseMs, () => db.transact(async tx => (await tx.get(nextKey()), 1)));

    // Durable commits of small read-modify-write transactions; each writer owns its keys, so the
    // figure measures commit throughput, not conflicts.
    const commits: Record<number, number> = {};
    const puts: Record<number, number> = {};
    for (const writers of [1, 16, 64]) {
      const span = Math.floor(keys / writers);
      puts[writers] = await concurrentThroughput(phaseMs, writers, async (w, i) => {
        await raw.put(keyOf(w * span + (i % span)), value);
      });
      commits[writers] = await concurrentThroughput(phaseMs, writers, async (w, i) => {
        await db.transact(async tx => {
          const key = keyOf(w * span + (i % span));
          const v = await tx.get(key);
          tx.set(key, v === undefined ? value : v);
        });
      });
    }

    // Range reads of 1,000 keys.
    const rangeLen = 1_000;
    const rangeStart = () => rand() % (keys - rangeLen);
    const rawRange = await throughput(phaseMs, () => {
      const s = rangeStart();
      return [...raw.getRange({ start: keyOf(s), end: keyOf(s + rangeLen) })].length;
    });
    const range = await throughput(phaseMs, async () => {
      const s = rangeStart();
      return db.transact(async tx => (await tx.getRange(keyOf(s), keyOf(s + rangeLen))).kvs.length);
    });

    const rows: Row[] = [
      { metric: `point reads (${perTx} gets per transaction)`, strata: reads, baseline: rawReads, unit: 'gets/s' },
      { metric: 'point reads (1 get per transaction)', strata: singleGetTx, baseline: rawReads, unit: 'gets/s' },
      ...[1, 16, 64].map(w => ({ metric: `durable RMW commits, ${w} writers`, strata: commits[w]!, baseline: puts[w]!, unit: 'commits/s' })),
      { metric: `range reads (${rangeLen} keys)`, strata: range, baseline: rawRange, unit: 'keys/s' },
    ];
    printTable(`kv: Strata embedded engine vs raw lmdb (${keys.toLocaleString('en-US')} keys of 100 bytes${quick ? ', quick' : ''})`, 'lmdb', rows);
    console.log(`group commit: 64 writers commit ${(commits[64]! / commits[1]!).toFixed(1)}x as much as 1 writer`);
    printJson('kv', {
      read_ratio: reads / rawReads,
      read_ratio_single_get_tx: singleGetTx / rawReads,
      commit_ratio_1: commits[1]! / puts[1]!,
      commit_ratio_16: commits[16]! / puts[16]!,
      commit_ratio_64: commits[64]! / puts[64]!,
      group_commit_gain: commits[64]! / commits[1]!,
      range_ratio: range / rawRange,
      reads_per_s: reads,
      lmdb_reads_per_s: rawReads,
      commits_per_s_1: commits[1]!,
      commits_per_s_16: commits[16]!,
      commits_per_s_64: commits[64]!,
      lmdb_puts_per_s_1: puts[1]!,
      lmdb_puts_per_s_16: puts[16]!,
      lmdb_puts_per_s_64: puts[64]!,
      range_keys_per_s: range,
      lmdb_range_keys_per_s: rawRange,
    });
  } finally {
    await db.close();
    await raw.close();
    await Promise.all(dirs.map(d => rm(d, { recursive: true, force: true })));
  }
}
