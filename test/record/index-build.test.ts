import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database, Transaction } from '../../src/kv/types.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { TenantTransaction } from '../../src/tenancy/scoped.js';
import { createCollection, requireCollection } from '../../layers/record/collections.js';
import { parseFilter } from '../../layers/record/filter/parse.js';
import { parseIndexSchema } from '../../layers/record/index-schema.js';
import { buildPayloadIndex } from '../../layers/record/indexes.js';
import { parseUpsertPoints } from '../../layers/record/parse-points.js';
import { candidateSources } from '../../layers/record/plan.js';
import { upsertPoints } from '../../layers/record/points-write.js';
import { countSelected } from '../../layers/record/read.js';
import { tempDir } from '../helpers/tmp.js';

// An index built over several transactions, with writes landing between them, ends up exact, and
// the planner does not use it before it is complete.
let db: Database;
let remove: () => Promise<void>;
let prefix: Uint8Array;
const inTenant = <T>(fn: (tx: Transaction) => Promise<T>) => db.transact(tx => fn(new TenantTransaction(tx, prefix)));
const upsert = (points: { id: number; group: string }[]) =>
  inTenant(async tx => {
    const c = await requireCollection(tx, 'big');
    await upsertPoints(tx, c, parseUpsertPoints(c.config, { points: points.map(p => ({ id: p.id, vector: [1], payload: { group: p.group } })) }));
  });

beforeAll(async () => {
  const t = await tempDir('strata-index-build');
  remove = t.remove;
  db = await openDatabase({ dataDir: t.dir });
  prefix = (await db.transact(tx => createTenant(tx, 't'))).prefix;
  await inTenant(tx => createCollection(tx, 'big', { vectors: { size: 1, distance: 'Dot' } }));
  await upsert(Array.from({ length: 2500 }, (_, id) => ({ id, group: `g${id % 10}` })));
});
afterAll(async () => {
  await db.close();
  await remove();
});

it('builds an index chunk by chunk, exact despite writes between chunks, used only once complete', async () => {
  const filter = parseFilter({ must: [{ key: 'group', match: { value: 'g3' } }] });
  let transactions = 0;
  let usableMidway = false;
  await buildPayloadIndex(
    async fn => {
      transactions++;
      const result = await inTenant(fn);
      if (transactions === 2) {
        // Mid-build: the planner ignores the index; writes move a point already indexed and one
        // not yet reached into g3, and one out of it.
        usableMidway = await inTenant(async tx => candidateSources(await requireCollection(tx, 'big'), { filter }).length > 0);
        await upsert([{ id: 5, group: 'g3' }, { id: 2400, group: 'g3' }, { id: 13, group: 'g0' }]);
      }
      return result;
    },
    'big',
    'group',
    parseIndexSchema('keyword'),
  );
  expect(transactions).toBeGreaterThanOrEqual(4); // declare, three chunks of 1,000 (the last finishes)
  expect(usableMidway).toBe(false);
  const { sources, count } = await inTenant(async tx => {
    const c = await requireCollection(tx, 'big');
    return { sources: candidateSources(c, { filter }).length, count: await countSelected(tx, c, { filter }) };
  });
  expect(sources).toBe(1);
  expect(count).toBe(250 + 2 - 1); // the index-only count agrees with the data
});
