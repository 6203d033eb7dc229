import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database, Transaction } from '../../src/kv/types.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { TenantTransaction } from '../../src/tenancy/scoped.js';
import { createCollection, requireCollection } from '../../layers/record/collections.js';
import { parseFilter } from '../../layers/record/filter/parse.js';
import { parseIndexSchema } from '../../layers/record/index-schema.js';
import { createPayloadIndex } from '../../layers/record/indexes.js';
import { parseUpsertPoints } from '../../layers/record/parse-points.js';
import { deletePoints, requireReachable, upsertPoints } from '../../layers/record/points-write.js';
import { VectorCache } from '../../layers/vector/cache.js';
import { exactSearch } from '../../layers/vector/exact.js';
import { VectorIndexer } from '../../layers/vector/indexer.js';
import { graphSpace } from '../../layers/vector/vector-index.js';
import { decodePointId } from '../../layers/record/layout.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * One server's caches serve every tenant: the same collection ids (and so the same graph keys)
 * in two tenants name two graphs, and neither cache may answer one tenant from the other's.
 */
let db: Database;
let remove: () => Promise<void>;
const prefixes = new Map<string, Uint8Array>();
const inTenant = <T>(tenant: string, fn: (tx: Transaction) => Promise<T>) => db.transact(tx => fn(new TenantTransaction(tx, prefixes.get(tenant) as Uint8Array)));
const cache = new VectorCache();
const indexer = () => new VectorIndexer(db);
const search = (tenant: string, vector: number[], filter?: unknown) =>
  inTenant(tenant, async tx =>
    (await exactSearch(tx, await requireCollection(tx, 'docs'), { vector: Float32Array.from(vector), limit: 3, hnswEf: 32, cache, ...(filter === undefined ? {} : { filter: parseFilter(filter) }) })).map(h => h.id),
  );

beforeAll(async () => {
  const t = await tempDir('strata-tenant-caches');
  remove = t.remove;
  db = await openDatabase({ dataDir: t.dir });
  for (const [name, sign] of [['a', 1], ['b', -1]] as const) {
    prefixes.set(name, (await db.transact(tx => createTenant(tx, name))).prefix);
    await inTenant(name, async tx => {
      const c = await createCollection(tx, 'docs', { vectors: { size: 4, distance: 'Euclid' }, hnsw_config: { m: 8, ef_construct: 32, full_scan_threshold: 0 } });
      await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: Array.from({ length: 200 }, (_, i) => ({ id: i + 1, vector: [sign * (i + 1), 0, 0, 0] })) }));
    });
  }
});
afterAll(async () => {
  await db.close();
  await remove();
});

it('never answers a tenant from another tenant’s graph with the same keys', async () => {
  await indexer().drain();
  expect(await search('a', [5, 0, 0, 0])).toEqual([5, 4, 6]);
  expect(await search('b', [-5, 0, 0, 0])).toEqual([5, 4, 6]); // b's own points, by b's vectors
  expect(await search('b', [5, 0, 0, 0])).toEqual([1, 2, 3]); // a's points would be 5, 4, 6
  expect(await search('a', [-5, 0, 0, 0])).toEqual([1, 2, 3]);
  // One indexer (one set of memos) links both tenants in turns: each keeps building its own graph.
  const shared = indexer();
  for (let round = 0; round < 3; round++) {
    for (const [name, sign] of [['a', 1], ['b', -1]] as const) {
      await inTenant(name, async tx => {
        const c = await requireCollection(tx, 'docs');
        await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: Array.from({ length: 30 }, (_, i) => ({ id: 1000 + round * 30 + i, vector: [sign * (300 + round * 30 + i), 1, 0, 0] })) }));
      });
    }
    await shared.drain();
  }
  expect(await search('a', [330.2, 1, 0, 0])).toEqual([1030, 1031, 1029]);
  expect(await search('b', [-330.2, 1, 0, 0])).toEqual([1030, 1031, 1029]);
});

it('still walks the graph when the entry point’s point was just deleted', async () => {
  const entryId = await inTenant('a', async tx => {
    const c = await requireCollection(tx, 'docs');
    const raw = await tx.get(graphSpace(c, '').pack(['e']));
    return decodePointId((raw as Uint8Array).subarray(1));
  });
  await inTenant('a', async tx => {
    const c = await requireCollection(tx, 'docs');
    await deletePoints(tx, c, await requireReachable(tx, c, [entryId], undefined));
  });
  const found = await search('a', [100, 0, 0, 0]); // before the indexer has picked another entry
  expect(found.length).toBe(3);
  expect(found).not.toContain(entryId);
});

it('filters the walk of a uuid tenant field’s graph, which holds every spelling of a uuid', async () => {
  const upper = '6F9619FF-8B86-D011-B42D-00CF4FC964FF';
  await inTenant('a', async tx => {
    let c = await createCollection(tx, 'uuids', { vectors: { size: 2, distance: 'Euclid' }, hnsw_config: { m: 0, payload_m: 8, ef_construct: 32, full_scan_threshold: 0 } });
    c = await createPayloadIndex(tx, c, 'org', parseIndexSchema({ type: 'uuid', is_tenant: true }));
    const points = [
      ...Array.from({ length: 20 }, (_, i) => ({ id: i + 1, vector: [i, 0], payload: { org: upper.toLowerCase() } })),
      { id: 100, vector: [0, 0], payload: { org: upper } }, // the same uuid, spelt upper-case
      { id: 101, vector: [0, 0], payload: { org: 'not a uuid' } }, // no partition, and no failure
    ];
    await upsertPoints(tx, c, parseUpsertPoints(c.config, { points }));
  });
  await indexer().drain();
  const found = await inTenant('a', async tx =>
    (await exactSearch(tx, await requireCollection(tx, 'uuids'), { vector: Float32Array.of(0, 0), limit: 3, cache, filter: parseFilter({ must: [{ key: 'org', match: { value: upper.toLowerCase() } }] }) })).map(h => h.id),
  );
  const exact = await inTenant('a', async tx =>
    (await exactSearch(tx, await requireCollection(tx, 'uuids'), { vector: Float32Array.of(0, 0), limit: 3, exact: true, filter: parseFilter({ must: [{ key: 'org', match: { value: upper.toLowerCase() } }] }) })).map(h => h.id),
  );
  expect(found).toEqual(exact);
});
