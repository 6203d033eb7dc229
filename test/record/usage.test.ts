import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { tenantHandle } from '../../src/tenancy/tenant.js';
import type { TenantTransaction } from '../../src/tenancy/scoped.js';
import { createCollection, deleteCollection, requireCollection, type Collection } from '../../layers/record/collections.js';
import { parseUpsertPoints } from '../../layers/record/parse-points.js';
import { deletePoints, deleteVectors, reachableByIds, requireReachable, updatePayloads, updateVectors, upsertPoints } from '../../layers/record/points-write.js';
import { collectionUsage, tenantUsage } from '../../layers/record/usage.js';
import { seeded } from '../helpers/random.js';
import { tempDir } from '../helpers/tmp.js';

// The usage counters against the truth: after a seeded run of every kind of write, each counter
// equals what a full scan of the stored records and vectors adds up to.

let db: Database;
let remove: () => Promise<void>;
beforeAll(async () => {
  const t = await tempDir('strata-usage');
  remove = t.remove;
  db = await openDatabase({ dataDir: t.dir });
  await db.transact(tx => createTenant(tx, 'acme'));
});
afterAll(async () => {
  await db.close();
  await remove();
});

/** Points, record bytes and vector bytes of `c`, by scanning them. */
async function scanned(tx: TenantTransaction, c: Collection) {
  const records = await tx.getRange(...range(c.keys.points.range()));
  let vectorBytes = 0;
  for (const name of Object.keys(c.config.vectors)) for (const kv of (await tx.getRange(...range(c.keys.vectors(name).range()))).kvs) vectorBytes += kv.value.length;
  return { points: records.kvs.length, payloadBytes: records.kvs.reduce((n, kv) => n + kv.value.length, 0), vectorBytes };
}
const range = (r: { begin: Uint8Array; end: Uint8Array }) => [r.begin, r.end] as const;

it('keeps points and bytes per collection and per tenant exact through every kind of write', async () => {
  const acme = tenantHandle(db, 'acme');
  const random = seeded(42);
  const pick = (n: number) => Math.floor(random() * n);
  await acme.transact(async tx => {
    await createCollection(tx, 'a', { vectors: { img: { size: 3, distance: 'Dot' }, txt: { size: 2, distance: 'Dot' } } });
    await createCollection(tx, 'b', { vectors: { size: 4, distance: 'Dot' } });
  });
  for (let step = 0; step < 300; step++) {
    await acme.transact(async tx => {
      const c = await requireCollection(tx, pick(2) === 0 ? 'a' : 'b');
      const named = c.name === 'a';
      // Ids (and vector names below) repeat now and then, as a careless or hostile request's would.
      const ids = Array.from({ length: 1 + pick(4) }, () => pick(40));
      const vector = () => (named ? (pick(3) === 0 ? { img: [1, 2, 3] } : { img: [1, 2, 3], txt: [1, 2] }) : [1, 2, 3, 4]);
      switch (pick(6)) {
        case 0:
        case 1:
          await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: ids.map(id => ({ id, vector: vector(), payload: { s: 'x'.repeat(pick(50)) } })) }));
          break;
        case 2:
          await deletePoints(tx, c, await reachableByIds(tx, c, ids, undefined));
          break;
        case 3:
          await updatePayloads(tx, c, await reachableByIds(tx, c, ids, undefined), pick(2) === 0 ? { kind: 'set', payload: { more: 'y'.repeat(pick(30)) } } : { kind: 'clear' }, undefined);
          break;
        case 4: {
          const found = await reachableByIds(tx, c, ids, undefined);
          const twice = [...found, ...found.slice(0, pick(2))];
          await updateVectors(tx, c, twice.map(p => ({ id: p.id, vectors: new Map([[named ? 'txt' : '', Float32Array.from(named ? [5, 6] : [5, 6, 7, 8])]]) })));
          break;
        }
        default:
          if (named) await deleteVectors(tx, c, await requireReachable(tx, c, (await reachableByIds(tx, c, ids, undefined)).map(p => p.id), undefined), pick(2) === 0 ? ['txt'] : ['txt', 'txt', 'txt']);
      }
    });
  }
  const { perCollection, tenant } = await acme.transact(async tx => {
    const a = await requireCollection(tx, 'a');
    const b = await requireCollection(tx, 'b');
    return {
      perCollection: [[await collectionUsage(tx, a), await scanned(tx, a)], [await collectionUsage(tx, b), await scanned(tx, b)]],
      tenant: [await tenantUsage(tx), await scanned(tx, a), await scanned(tx, b)] as const,
    };
  });
  for (const [counted, truth] of perCollection) expect(counted).toEqual(truth);
  const [usage, a, b] = tenant;
  expect(usage).toEqual({ points: a.points + b.points, bytes: a.payloadBytes + a.vectorBytes + b.payloadBytes + b.vectorBytes });
  expect(usage.points).toBeGreaterThan(10);

  // Deleting a collection takes its usage off the tenant's.
  const after = await acme.transact(async tx => {
    await deleteCollection(tx, 'a');
    return tenantUsage(tx);
  });
  expect(after).toEqual({ points: b.points, bytes: b.payloadBytes + b.vectorBytes });
});
