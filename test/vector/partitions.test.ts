import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database, Transaction } from '../../src/kv/types.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { TenantTransaction } from '../../src/tenancy/scoped.js';
import { createCollection, requireCollection, updateCollection } from '../../layers/record/collections.js';
import { parseFilter } from '../../layers/record/filter/parse.js';
import { parseIndexSchema } from '../../layers/record/index-schema.js';
import { createPayloadIndex } from '../../layers/record/indexes.js';
import { parseUpsertPoints } from '../../layers/record/parse-points.js';
import { requireReachable, updatePayloads, upsertPoints } from '../../layers/record/points-write.js';
import { exactSearch } from '../../layers/vector/exact.js';
import { VectorCache } from '../../layers/vector/cache.js';

// One cache across every search of the file: whatever changes between searches must invalidate it.
const cache = new VectorCache();
import { graphCount } from '../../layers/vector/hnsw/graph.js';
import { partitionSpace } from '../../layers/vector/partitions.js';
import { indexedCount, indexPending } from '../../layers/vector/vector-index.js';
import { seeded } from '../helpers/random.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Multitenancy as Qdrant sets it up (`m: 0, payload_m: 16`, an `is_tenant` index): a graph per
 * tenant value, no global graph. A tenant-pinned query never returns another tenant's point, even
 * when those are closer, and finds its own at recall ≥ 0.95; a point that changes tenant moves graph.
 */
let db: Database;
let remove: () => Promise<void>;
let prefix: Uint8Array;
const inTenant = <T>(fn: (tx: Transaction) => Promise<T>) => db.transact(tx => fn(new TenantTransaction(tx, prefix)));
const TENANTS = ['acme', 'globex', 'initech', 'umbrella'];
const rand = seeded(11);
// Every tenant's points scattered over the same space, so other tenants' points are often closer.
const points = Array.from({ length: 800 }, (_, id) => ({ id, vector: Array.from({ length: 6 }, () => rand()), payload: { tenant_id: TENANTS[id % TENANTS.length] as string } }));
const queries = Array.from({ length: 20 }, () => Array.from({ length: 6 }, () => rand()));
const search = (vector: number[], tenant: string | undefined, exact = false) =>
  inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    const filter = tenant === undefined ? undefined : parseFilter({ must: [{ key: 'tenant_id', match: { value: tenant } }] });
    return (await exactSearch(tx, c, { vector: Float32Array.from(vector), limit: 10, exact, filter, cache })).map(h => h.id as number);
  });
const indexAll = async () => {
  while ((await inTenant(async tx => indexPending(tx, await requireCollection(tx, 'docs'), '', 64))) > 0);
};

beforeAll(async () => {
  const t = await tempDir('strata-partitions');
  remove = t.remove;
  db = await openDatabase({ dataDir: t.dir });
  prefix = (await db.transact(tx => createTenant(tx, 'saas'))).prefix;
  await inTenant(async tx => {
    const c = await createCollection(tx, 'docs', { vectors: { size: 6, distance: 'Euclid' }, hnsw_config: { m: 0, payload_m: 16, ef_construct: 64, full_scan_threshold: 0 } });
    await createPayloadIndex(tx, c, 'tenant_id', parseIndexSchema({ type: 'keyword', is_tenant: true }));
  });
  for (let i = 0; i < points.length; i += 200) {
    await inTenant(async tx => {
      const c = await requireCollection(tx, 'docs');
      await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: points.slice(i, i + 200) }));
    });
  }
  await indexAll();
});
afterAll(async () => {
  await db.close();
  await remove();
});

it('refuses to turn on a graph over stored points (it would miss them), and changes nothing', async () => {
  for (const hnsw_config of [{ m: 16 }, { payload_m: 0, m: 4 }]) {
    await expect(inTenant(tx => updateCollection(tx, 'docs', { hnsw_config }))).rejects.toMatchObject({ code: 'ERR_FEATURE_UNSUPPORTED' });
  }
  expect((await inTenant(tx => requireCollection(tx, 'docs'))).config.hnsw).toMatchObject({ m: 0, payload_m: 16 });
  await inTenant(async tx => {
    const c = await createCollection(tx, 'empty', { vectors: { size: 6, distance: 'Euclid' }, hnsw_config: { m: 0 } });
    await updateCollection(tx, c.name, { hnsw_config: { m: 16, payload_m: 16 } }); // nothing stored: fine
  });
});

it('builds a graph per tenant and none global', async () => {
  const sizes = await inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    return Promise.all(TENANTS.map(t => graphCount(tx, partitionSpace(c, '', ['t', 'tenant_id', t]))));
  });
  expect(sizes).toEqual([200, 200, 200, 200]);
  expect(await inTenant(async tx => indexedCount(tx, await requireCollection(tx, 'docs'), ''))).toBe(800);
});

it('answers a tenant-pinned query from that tenant’s graph only, at recall ≥ 0.95', async () => {
  let hits = 0;
  for (const q of queries) {
    const exact = await search(q, 'acme', true);
    // The exact search reads acme's points from its index entries alone: the true top 10.
    const truth = points
      .filter(p => p.payload.tenant_id === 'acme')
      .map(p => ({ id: p.id, d: p.vector.reduce((s, x, i) => s + (x - (q[i] as number)) ** 2, 0) }))
      .sort((a, b) => a.d - b.d)
      .slice(0, 10)
      .map(p => p.id);
    expect(exact).toEqual(truth);
    const found = await search(q, 'acme');
    expect(found.every(id => id % TENANTS.length === 0)).toBe(true);
    hits += found.filter(id => exact.includes(id)).length;
    // Other tenants' points are closer than acme's own nearest, yet never returned.
    expect((await search(q, undefined, true)).some(id => id % TENANTS.length !== 0)).toBe(true);
  }
  expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
  // Unpinned queries have no global graph to use: they are exact.
  expect(await search(queries[0] as number[], undefined)).toEqual(await search(queries[0] as number[], undefined, true));
});

it('moves a point to its new tenant’s graph when its tenant changes', async () => {
  const q = queries[1] as number[];
  await inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: [{ id: 9001, vector: q, payload: { tenant_id: 'acme' } }] }));
  });
  expect((await search(q, 'acme'))[0]).toBe(9001);
  await indexAll();
  expect((await search(q, 'acme'))[0]).toBe(9001);
  await inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: [{ id: 9001, vector: q, payload: { tenant_id: 'globex' } }] }));
  });
  expect(await search(q, 'acme')).not.toContain(9001);
  await indexAll();
  expect(await search(q, 'acme')).not.toContain(9001);
  expect((await search(q, 'globex'))[0]).toBe(9001);
});

it('moves a point whose tenant changes by a payload edit alone (no new vector)', async () => {
  const q = queries[3] as number[];
  await inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: [{ id: 9002, vector: q, payload: { tenant_id: 'initech' } }] }));
  });
  await indexAll();
  await inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    await updatePayloads(tx, c, await requireReachable(tx, c, [9002], undefined), { kind: 'set', payload: { tenant_id: 'umbrella' } }, undefined);
  });
  expect(await search(q, 'initech')).not.toContain(9002);
  expect((await search(q, 'umbrella'))[0]).toBe(9002);
  await indexAll();
  expect(await search(q, 'initech')).not.toContain(9002);
  expect((await search(q, 'umbrella'))[0]).toBe(9002);
  const sizes = await inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    return Promise.all(['initech', 'umbrella'].map(t => graphCount(tx, partitionSpace(c, '', ['t', 'tenant_id', t]))));
  });
  expect(sizes).toEqual([200, 201]);
});

it('fills the partition graphs when the tenant index is created after the points', async () => {
  await inTenant(async tx => {
    const c = await createCollection(tx, 'late', { vectors: { size: 6, distance: 'Euclid' }, hnsw_config: { m: 0, payload_m: 16, ef_construct: 64, full_scan_threshold: 0 } });
    await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: points.slice(0, 100) }));
  });
  const drain = async () => {
    while ((await inTenant(async tx => indexPending(tx, await requireCollection(tx, 'late'), '', 64))) > 0);
  };
  await drain();
  const sizes = () => inTenant(async tx => {
    const c = await requireCollection(tx, 'late');
    return Promise.all(TENANTS.map(t => graphCount(tx, partitionSpace(c, '', ['t', 'tenant_id', t]))));
  });
  expect(await sizes()).toEqual([0, 0, 0, 0]);
  await inTenant(async tx => createPayloadIndex(tx, await requireCollection(tx, 'late'), 'tenant_id', parseIndexSchema({ type: 'keyword', is_tenant: true })));
  await drain();
  expect(await sizes()).toEqual([25, 25, 25, 25]);
});

it('applies the rest of a pinned query’s filter while walking the partition graph', async () => {
  const q = queries[4] as number[];
  const top = await search(q, 'acme');
  const excluded = top.slice(0, 3);
  const found = await inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    const filter = parseFilter({ must: [{ key: 'tenant_id', match: { value: 'acme' } }], must_not: [{ has_id: excluded }] });
    return (await exactSearch(tx, c, { vector: Float32Array.from(q), limit: 10, filter, cache })).map(h => h.id as number);
  });
  expect(found.length).toBe(10);
  expect(found.some(id => excluded.includes(id))).toBe(false);
  expect(found.every(id => id % TENANTS.length === 0 || id >= 9000)).toBe(true);
});

it('links a point whose tenant field holds several values into each of their graphs', async () => {
  const q = queries[5] as number[];
  await inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: [{ id: 9003, vector: q, payload: { tenant_id: ['acme', 'globex'] } }] }));
  });
  await indexAll();
  expect((await search(q, 'acme'))[0]).toBe(9003);
  expect((await search(q, 'globex'))[0]).toBe(9003);
  expect(await search(q, 'initech')).not.toContain(9003);
});

it('answers a pinned query from the partition graph itself (not by scoring every point)', async () => {
  // Remove acme's graph entry point: a search that walks that graph finds nothing, an exact one would.
  await inTenant(async tx => {
    const c = await requireCollection(tx, 'docs');
    tx.clear(partitionSpace(c, '', ['t', 'tenant_id', 'acme']).pack(['e']));
  });
  expect(await search(queries[2] as number[], 'acme')).toEqual([]);
  expect((await search(queries[2] as number[], 'acme', true)).length).toBe(10);
});
