import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { tenantHandle } from '../../src/tenancy/tenant.js';
import { createCollection, parseFilter, parseUpsertPoints, selectPoints, upsertPoints } from '../../layers/record/index.js';
import { exactSearch } from '../../layers/vector/index.js';
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
