import { expect, it } from 'vitest';
import { openDatabase } from '../../../src/kv/open.js';
import { tempDir } from '../../helpers/tmp.js';

const k = (s: string) => Buffer.from(s);

it('a snapshot reader sees one version for as long as it lives, past the MVCC window, and is released on close', async () => {
  const { dir, remove } = await tempDir('strata-reader');
  const db = await openDatabase({ dataDir: dir, mvccWindowMs: 20 });
  try {
    await db.transact(async tx => {
      for (const key of ['a', 'b', 'c', 'd']) tx.set(k(key), k(key.toUpperCase()));
    });
    const reader = db.openSnapshotReader?.();
    if (reader === undefined) throw new Error('the embedded engine holds versions');
    await db.transact(async tx => {
      tx.set(k('b'), k('changed'));
      tx.clear(k('c'));
      tx.set(k('e'), k('E'));
    });
    await new Promise(resolve => setTimeout(resolve, 60)); // three windows
    expect(Buffer.from((await reader.get(k('b'))) ?? []).toString()).toBe('B');
    const page = await reader.getRange(k('a'), k('z'), { limit: 3 });
    expect(page.kvs.map(({ key, value }) => `${Buffer.from(key).toString()}=${Buffer.from(value).toString()}`)).toEqual(['a=A', 'b=B', 'c=C']);
    expect(page.more).toBe(true);
    expect((await reader.getRange(k('d'), k('z'), { limit: 3 })).more).toBe(false);
    const later = db.openSnapshotReader?.();
    expect(reader.version).toBeLessThan(later?.version ?? 0);
    later?.close();
    reader.close();
    reader.close();
    await expect(reader.get(k('a'))).rejects.toMatchObject({ code: 'ERR_KV_TRANSACTION_CLOSED' });
    const open = db.openSnapshotReader?.();
    await db.close();
    await expect(open?.get(k('a')) ?? Promise.resolve()).rejects.toMatchObject({ code: 'ERR_KV_DATABASE_CLOSED' });
  } finally {
    await db.close();
    await remove();
  }
});
