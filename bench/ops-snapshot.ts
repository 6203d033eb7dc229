import { copyFile, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { openDatabase } from '../src/kv/open.js';
import { prefixEnd } from '../src/kv/keys.js';
import { createTenant, requireTenant } from '../src/tenancy/registry.js';
import { TenantTransaction } from '../src/tenancy/scoped.js';
import { restoreSnapshotFile } from '../src/snapshot/restore.js';
import { writeSnapshotFile } from '../src/snapshot/create.js';
import { createCollection, requireCollection } from '../layers/record/collections.js';
import { createPayloadIndex } from '../layers/record/indexes.js';
import { parseUpsertPoints } from '../layers/record/parse-points.js';
import { upsertPoints } from '../layers/record/points-write.js';

/**
 * Snapshot and restore speed against copying the same bytes: a tenant holding a collection of
 * points (vectors, payloads, a payload index) is written to a snapshot file and restored from it,
 * and a file of as many bytes as the tenant's keys and values is copied with `fs.copyFile`. Each
 * rate is the tenant's bytes over the time taken, so all three move the same amount of data.
 */

export interface SnapshotFigures {
  readonly points: number;
  /** Bytes of the tenant's keys and values. */
  readonly dataBytes: number;
  /** Bytes of the snapshot file. */
  readonly fileBytes: number;
  readonly createMBps: number;
  readonly restoreMBps: number;
  readonly copyMBps: number;
  readonly createRatio: number;
  readonly restoreRatio: number;
  /** `strata backup` (LMDB's compacting copy of the whole store), over the store's file size. */
  readonly backupMBps: number;
  /** `fs.copyFile` of the store's file. */
  readonly storeCopyMBps: number;
  /** The ceiling under Strata: lmdb-js itself writing the same pairs (one `putSync` each, one transaction). */
  readonly lmdbPutMBps: number;
  /** …and reading them back with `getRange`. */
  readonly lmdbScanMBps: number;
}

const DIM = 128;
const BATCH = 500;
const MB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function measureSnapshots(dir: string, quick: boolean): Promise<SnapshotFigures> {
  const points = quick ? 20_000 : 100_000;
  const db = await openDatabase({ dataDir: join(dir, 'snap-data') });
  try {
    const tenant = await db.transact(tx => createTenant(tx, 'bench'));
    const c = await db.transact(tx => createCollection(new TenantTransaction(tx, tenant.prefix), 'docs', { vectors: { size: DIM, distance: 'Cosine' }, hnsw_config: { m: 0 } }));
    await db.transact(tx => createPayloadIndex(new TenantTransaction(tx, tenant.prefix), c, 'group', { type: 'keyword', params: {} }));
    const indexed = await db.transact(tx => requireCollection(new TenantTransaction(tx, tenant.prefix), 'docs'));
    let s = 7;
    const random = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
    for (let i = 0; i < points; i += BATCH) {
      const body = { points: Array.from({ length: BATCH }, (_, j) => ({ id: i + j, vector: Array.from({ length: DIM }, random), payload: { group: `g${(i + j) % 100}`, title: `document ${i + j}`, n: i + j } })) };
      await db.transact(tx => upsertPoints(new TenantTransaction(tx, tenant.prefix), indexed, parseUpsertPoints(indexed.config, body)));
    }
    const pairs: Array<[Buffer, Buffer]> = [];
    const dataBytes = await db.transact(async tx => {
      const { prefix } = await requireTenant(tx, 'bench');
      let n = 0;
      let from = prefix;
      for (;;) {
        const { kvs, more } = await tx.getRange(from, prefixEnd(prefix), { limit: 10_000, snapshot: true });
        for (const kv of kvs) {
          n += kv.key.length + kv.value.length;
          pairs.push([Buffer.from(kv.key), Buffer.from(kv.value)]);
        }
        if (!more) return n;
        from = Buffer.concat([kvs[kvs.length - 1]!.key, Buffer.from([0])]);
      }
    });
    // A file of the same size for the copy baseline.
    const raw = join(dir, 'raw.bin');
    const fh = await open(raw, 'w');
    const chunk = Buffer.alloc(MB, 0x5a);
    for (let left = dataBytes; left > 0; left -= MB) await fh.write(chunk, 0, Math.min(MB, left));
    await fh.close();

    const file = join(dir, 'bench.snapshot');
    const creates: number[] = [];
    const restores: number[] = [];
    const copies: number[] = [];
    for (let round = 0; round < (quick ? 2 : 3); round++) {
      await rm(file, { force: true });
      let t0 = performance.now();
      await writeSnapshotFile(db, { tenant: 'bench' }, file);
      creates.push(performance.now() - t0);
      t0 = performance.now();
      await restoreSnapshotFile(db, file, { tenant: 'bench' });
      restores.push(performance.now() - t0);
      await rm(join(dir, 'raw.copy'), { force: true });
      t0 = performance.now();
      await copyFile(raw, join(dir, 'raw.copy'));
      copies.push(performance.now() - t0);
    }
    // The whole store: LMDB's compacting copy (what `strata backup` runs) vs copying its file.
    const storeFile = join(dir, 'snap-data', 'data.mdb');
    const storeBytes = (await stat(storeFile)).size;
    const backups: number[] = [];
    const storeCopies: number[] = [];
    for (let round = 0; round < (quick ? 2 : 3); round++) {
      await rm(join(dir, 'backup'), { recursive: true, force: true });
      let t0 = performance.now();
      await db.backup?.(join(dir, 'backup'));
      backups.push(performance.now() - t0);
      await rm(join(dir, 'store.copy'), { force: true });
      t0 = performance.now();
      await copyFile(storeFile, join(dir, 'store.copy'));
      storeCopies.push(performance.now() - t0);
    }
    const { put: lmdbPut, scan: lmdbScan } = await measureLmdb(join(dir, 'raw-lmdb'), pairs, quick ? 2 : 3);
    const storeRate = (ms: number) => storeBytes / MB / (ms / 1000);
    const rate = (ms: number) => dataBytes / MB / (ms / 1000);
    const createMBps = rate(median(creates));
    const restoreMBps = rate(median(restores));
    const copyMBps = rate(median(copies));
    return {
      points,
      dataBytes,
      fileBytes: (await stat(file)).size,
      createMBps,
      restoreMBps,
      copyMBps,
      createRatio: createMBps / copyMBps,
      restoreRatio: restoreMBps / copyMBps,
      backupMBps: storeRate(median(backups)),
      storeCopyMBps: storeRate(median(storeCopies)),
      lmdbPutMBps: rate(lmdbPut),
      lmdbScanMBps: rate(lmdbScan),
    };
  } finally {
    await db.close();
  }
}

/**
 * What lmdb-js does with the same pairs and nothing of Strata's around it: one `putSync` a pair in
 * one durable write transaction, and one `getRange` over them (median ms of `rounds`). A restore
 * and a snapshot cannot beat these, so they show how much of the gap to `fs.copyFile` is the
 * storage library's own per-pair cost.
 */
async function measureLmdb(path: string, pairs: ReadonlyArray<[Buffer, Buffer]>, rounds: number): Promise<{ put: number; scan: number }> {
  const puts: number[] = [];
  const scans: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await rm(path, { recursive: true, force: true });
    const env = openLmdb({ path });
    const data = env.openDB<Buffer, Buffer>({ name: 'data', keyEncoding: 'binary', encoding: 'binary' });
    try {
      let t0 = performance.now();
      await env.transaction(() => {
        for (const [key, value] of pairs) data.putSync(key, value);
      });
      puts.push(performance.now() - t0);
      t0 = performance.now();
      let n = 0;
      for (const { value } of data.getRange({})) n += value.length;
      if (n === 0 && pairs.length > 0) throw new Error('lmdb read back nothing');
      scans.push(performance.now() - t0);
    } finally {
      await env.close();
    }
  }
  await rm(path, { recursive: true, force: true });
  return { put: median(puts), scan: median(scans) };
}
