import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { tenantHandle } from '../../src/tenancy/tenant.js';
import { createCollection, parseFilter, parseUpsertPoints, requireCollection, selectPoints, upsertPoints } from '../../layers/record/index.js';
import { exactSearch, indexedCount, search, VectorCache, VectorIndexer } from '../../layers/vector/index.js';
import { tempDir } from '../helpers/tmp.js';

// The README's in-process example, as written there: collections and search on a tenant handle.
let db: Database;
let remove: () => Promise<void>;
beforeAll(async () => {
  const t = await tempDir('strata-library');
  remove = t.remove;
  db = await openDatabase({ dataDir: t.dir });
});
afterAll(async () => {
  await db.close();
  await remove();
});

it('creates a collection, upserts, searches and filters through the library', async () => {
  await db.transact(tx => createTenant(tx, 'acme'));
  const acme = tenantHandle(db, 'acme');
  const seen = await acme.transact(async tx => {
    const docs = await createCollection(tx, 'docs', { vectors: { size: 3, distance: 'Cosine' } });
    await upsertPoints(tx, docs, parseUpsertPoints(docs.config, { points: [{ id: 1, vector: [1, 0, 0], payload: { city: 'Berlin' } }, { id: 2, vector: [0, 1, 0], payload: { city: 'Paris' } }] }));
    const filter = parseFilter({ must: [{ key: 'city', match: { value: 'Berlin' } }] });
    const hits = await exactSearch(tx, docs, { vector: Float32Array.of(1, 0, 0), filter, limit: 10 });
    const points = [];
    for await (const p of selectPoints(tx, docs, { filter })) points.push([p.id, p.record.payload]);
    return { hits, points };
  });
  expect(seen.hits).toEqual([{ id: 1, score: 1 }]);
  expect(seen.points).toEqual([[1, { city: 'Berlin' }]]);
});

it('links points with a VectorIndexer and searches the graph through a VectorCache, as the README shows', async () => {
  const acme = tenantHandle(db, 'acme');
  const unit = (i: number) => [Math.cos(i / 50), Math.sin(i / 50), (i % 7) / 7];
  await acme.transact(async tx => {
    const c = await createCollection(tx, 'many', { vectors: { size: 3, distance: 'Euclid' }, hnsw_config: { full_scan_threshold: 1 } });
    await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: Array.from({ length: 400 }, (_, i) => ({ id: i, vector: unit(i) })) }));
  });
  const indexer = new VectorIndexer(db);
  indexer.start();
  const linked = () => acme.transact(async tx => indexedCount(tx, await requireCollection(tx, 'many'), ''));
  for (let waited = 0; (await linked()) < 400 && waited < 20_000; waited += 20) await new Promise(resolve => setTimeout(resolve, 20));
  await indexer.stop();
  expect(await linked()).toBe(400);
  const cache = new VectorCache();
  const hits = await acme.transact(async tx => search(tx, await requireCollection(tx, 'many'), { vector: Float32Array.from(unit(123)), limit: 3, hnswEf: 64, cache }));
  expect(hits[0]).toEqual({ id: 123, score: 0 });
});
