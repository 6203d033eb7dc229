import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database, Transaction } from '../../src/kv/types.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { TenantTransaction } from '../../src/tenancy/scoped.js';
import { createCollection, requireCollection } from '../../layers/record/collections.js';
import { VECTORS_PENDING } from '../../layers/record/layout.js';
import { parseUpsertPoints } from '../../layers/record/parse-points.js';
import { upsertPoints } from '../../layers/record/points-write.js';
import { VectorIndexer } from '../../layers/vector/indexer.js';
import { indexedCount } from '../../layers/vector/vector-index.js';
import { tempDir } from '../helpers/tmp.js';

// The background indexer links every tenant's pending points, lowers the flags, and keeps up with
// concurrent writers without any of their upserts failing.
let db: Database;
let remove: () => Promise<void>;
const prefixes = new Map<string, Uint8Array>();
const inTenant = <T>(tenant: string, fn: (tx: Transaction) => Promise<T>) => db.transact(tx => fn(new TenantTransaction(tx, prefixes.get(tenant) as Uint8Array)));
const upsert = (tenant: string, ids: number[]) =>
  inTenant(tenant, async tx => {
    const c = await requireCollection(tx, 'docs');
    await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: ids.map(id => ({ id, vector: [Math.sin(id), Math.cos(id), id % 7] })) }));
  });
const indexed = (tenant: string) => inTenant(tenant, async tx => indexedCount(tx, await requireCollection(tx, 'docs'), ''));
const flags = (tenant: string) => inTenant(tenant, async tx => (await tx.getRange(VECTORS_PENDING.range().begin, VECTORS_PENDING.range().end)).kvs.length);

beforeAll(async () => {
  const t = await tempDir('strata-indexer');
  remove = t.remove;
  db = await openDatabase({ dataDir: t.dir });
  for (const name of ['a', 'b']) {
    prefixes.set(name, (await db.transact(tx => createTenant(tx, name))).prefix);
    await inTenant(name, tx => createCollection(tx, 'docs', { vectors: { size: 3, distance: 'Euclid' }, hnsw_config: { m: 8, ef_construct: 32 } }));
  }
});
afterAll(async () => {
  await db.close();
  await remove();
});

it('links every tenant’s pending points and lowers the flags', async () => {
  await upsert('a', Array.from({ length: 150 }, (_, i) => i));
  await upsert('b', Array.from({ length: 70 }, (_, i) => i));
  expect([await flags('a'), await flags('b')]).toEqual([1, 1]);
  const indexer = new VectorIndexer(db, { batch: 40 });
  expect(await indexer.runOnce()).toBe(true);
  expect([await indexed('a'), await indexed('b')]).toEqual([150, 70]);
  expect([await flags('a'), await flags('b')]).toEqual([0, 0]);
  expect(await indexer.runOnce()).toBe(false);
});

it('keeps up with concurrent writers, none of whose upserts fails', async () => {
  const errors: unknown[] = [];
  const indexer = new VectorIndexer(db, { batch: 16, idleMs: 10, onError: err => errors.push(err) });
  indexer.start();
  // Three writers, overlapping ids, while the indexer runs.
  await Promise.all([0, 1, 2].map(w => (async () => {
    for (let round = 0; round < 10; round++) await upsert('a', Array.from({ length: 20 }, (_, i) => 1000 + ((w * 7 + round * 20 + i) % 300)));
  })()));
  const deadline = Date.now() + 30_000;
  while ((await flags('a')) > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50));
  await indexer.stop();
  expect(errors).toEqual([]);
  expect(await flags('a')).toBe(0);
  const distinct = new Set<number>();
  for (let w = 0; w < 3; w++) for (let round = 0; round < 10; round++) for (let i = 0; i < 20; i++) distinct.add(1000 + ((w * 7 + round * 20 + i) % 300));
  expect(await indexed('a')).toBe(150 + distinct.size);
});
