import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import { pages } from '../../src/kv/pages.js';
import type { Database } from '../../src/kv/types.js';
import { tempDir } from '../helpers/tmp.js';

// Reading a range a page at a time gives every pair once, in order, and no empty page.
let db: Database;
let remove: () => Promise<void>;
const key = (i: number) => Buffer.from(`k${String(i).padStart(5, '0')}`);
beforeAll(async () => {
  ({ remove } = await tempDir('strata-pages').then(async t => {
    db = await openDatabase({ dataDir: t.dir });
    return t;
  }));
  await db.transact(async tx => {
    for (let i = 0; i < 2500; i++) tx.set(key(i), Buffer.from([i & 0xff]));
  });
});
afterAll(async () => {
  await db.close();
  await remove();
});

it('reads a range in pages of the given size, each pair once and in order', async () => {
  const sizes: number[] = [];
  const keys: string[] = [];
  await db.transact(async tx => {
    for await (const page of pages(tx, key(10), key(2010), { limit: 700, snapshot: true })) {
      sizes.push(page.length);
      for (const { key: k } of page) keys.push(Buffer.from(k).toString());
    }
  });
  expect(sizes).toEqual([700, 700, 600]);
  expect(keys).toEqual(Array.from({ length: 2000 }, (_, i) => key(i + 10).toString()));
  await db.transact(async tx => {
    for await (const _ of pages(tx, key(3000), key(4000), { limit: 10 })) throw new Error('an empty range yields no page');
  });
});
