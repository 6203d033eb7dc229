import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database, Transaction } from '../../src/kv/types.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { TenantTransaction } from '../../src/tenancy/scoped.js';
import { createCollection, requireCollection } from '../../layers/record/collections.js';
import { parseUpsertPoints } from '../../layers/record/parse-points.js';
import { deletePoints, reachableByIds, upsertPoints } from '../../layers/record/points-write.js';
import { exactSearch } from '../../layers/vector/exact.js';
import { VectorCache } from '../../layers/vector/cache.js';

// One cache across every search of the file: whatever changes between searches must invalidate it.
const cache = new VectorCache();
import { parseFilter } from '../../layers/record/filter/parse.js';
import type { Filter } from '../../layers/record/filter/types.js';
import { indexedCount, indexPending } from '../../layers/vector/vector-index.js';
import { seeded } from '../helpers/random.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The vector index behind search: points are found as soon as their upsert returns (scored from the
 * pending tail), the graph answers at recall ≥ 0.95 once the indexer has linked them, and updates
 * and deletes never return a stale or deleted vector, before or after indexing.
 */
const DIM = 8;
const rand = seeded(3);
const centres = Array.from({ length: 8 }, () => Array.from({ length: DIM }, () => rand() * 10));
const sample = () => (centres[Math.floor(rand() * centres.length)] as number[]).map(x => x + rand() - 0.5);

describe('the vector index behind search', () => {
  let db: Database;
  let remove: () => Promise<void>;
  let prefix: Uint8Array;
  const inTenant = <T>(fn: (tx: Transaction) => Promise<T>) => db.transact(tx => fn(new TenantTransaction(tx, prefix)));
  const points = Array.from({ length: 800 }, (_, id) => ({ id, vector: sample() }));
  const queries = Array.from({ length: 20 }, sample);
  const search = (vector: number[], exact = false, extra: { filter?: Filter; scope?: Record<string, number> } = {}) =>
    inTenant(async tx => (await exactSearch(tx, await requireCollection(tx, 'v'), { vector: Float32Array.from(vector), limit: 10, exact, cache, ...extra })).map(h => h.id));
  const indexAll = async () => {
    while ((await inTenant(async tx => indexPending(tx, await requireCollection(tx, 'v'), '', 64))) > 0);
  };
  const upsert = (list: { id: number; vector: number[] }[]) =>
    inTenant(async tx => {
      const c = await requireCollection(tx, 'v');
      await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: list.map(p => ({ ...p, payload: { group: p.id % 10 } })) }));
    });

  beforeAll(async () => {
    const t = await tempDir('strata-vector-index');
    remove = t.remove;
    db = await openDatabase({ dataDir: t.dir });
    prefix = (await db.transact(tx => createTenant(tx, 't'))).prefix;
    // full_scan_threshold 0: the graph is used at any size.
    await inTenant(tx => createCollection(tx, 'v', { vectors: { size: DIM, distance: 'Euclid' }, hnsw_config: { m: 16, ef_construct: 64, full_scan_threshold: 0 } }));
    for (let i = 0; i < points.length; i += 200) await upsert(points.slice(i, i + 200));
  });
  afterAll(async () => {
    await db.close();
    await remove();
  });

  it('answers exactly before indexing, and from the graph at recall ≥ 0.95 after', async () => {
    for (const q of queries.slice(0, 5)) expect(await search(q)).toEqual(await search(q, true));
    await indexAll();
    expect(await inTenant(async tx => indexedCount(tx, await requireCollection(tx, 'v'), ''))).toBe(points.length);
    let hits = 0;
    for (const q of queries) {
      const exact = await search(q, true);
      hits += (await search(q)).filter(id => exact.includes(id)).length;
    }
    expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
  });

  it('searches the graph with a filter or a payload scope, never returning what they exclude', async () => {
    const filter = parseFilter({ must: [{ key: 'group', match: { value: 3 } }] });
    let hits = 0;
    for (const q of queries) {
      const exact = await search(q, true, { filter });
      const found = await search(q, false, { filter });
      expect(found.every(id => (id as number) % 10 === 3)).toBe(true);
      hits += found.filter(id => exact.includes(id)).length;
    }
    expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.9);
    // A scoped caller asking with another group's exact vector still gets only its own group.
    const other = points.find(p => p.id % 10 === 4) as { vector: number[] };
    const scoped = await search(other.vector, false, { scope: { group: 3 } });
    expect(scoped).toHaveLength(10);
    expect(scoped.every(id => (id as number) % 10 === 3)).toBe(true);
  });

  it('finds a point as soon as its upsert returns, and never a moved or deleted one', async () => {
    const q = queries[0] as number[];
    await upsert([{ id: 5000, vector: q }]); // exactly the query: the nearest of all
    expect((await search(q))[0]).toBe(5000);
    // Move it far away: neither before nor after indexing is it near the query.
    await upsert([{ id: 5000, vector: q.map(x => x + 1000) }]);
    expect(await search(q)).not.toContain(5000);
    await indexAll();
    expect(await search(q)).not.toContain(5000);
    // Delete the query's current nearest points: gone at once, and after indexing.
    const nearest = await search(q);
    await inTenant(async tx => {
      const c = await requireCollection(tx, 'v');
      await deletePoints(tx, c, await reachableByIds(tx, c, nearest.slice(0, 5), undefined));
    });
    const after = await search(q);
    for (const id of nearest.slice(0, 5)) expect(after).not.toContain(id);
    await indexAll();
    const indexed = await search(q);
    for (const id of nearest.slice(0, 5)) expect(indexed).not.toContain(id);
    expect(indexed).toEqual(await search(q, true));
    expect(await inTenant(async tx => indexedCount(tx, await requireCollection(tx, 'v'), ''))).toBe(points.length + 1 - 5);
  });
});
