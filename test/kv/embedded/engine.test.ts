import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/kv/open.js';
import { decodeVersion, encodeVersion, STORED_KEY_PREFIX, storedKey, userKey } from '../../../src/kv/embedded/stored-keys.js';
import { dec, enc } from '../../helpers/bytes.js';
import { tempDir } from '../../helpers/tmp.js';

describe('embedded engine', () => {
  it('keeps data across close and reopen, including the empty key', async () => {
    const { dir, remove } = await tempDir();
    try {
      const db = await openDatabase({ dataDir: dir });
      await db.transact(async tx => {
        tx.set(enc(''), enc('empty'));
        tx.set(enc('k'), enc('v'));
      });
      await db.close();
      const again = await openDatabase({ dataDir: dir });
      const got = await again.transact(async tx => [dec(await tx.get(enc(''))), dec(await tx.get(enc('k')))]);
      expect(got).toEqual(['empty', 'v']);
      // Versions continue after a reopen: a conflicting pair still conflicts.
      await again.transact(async tx => tx.set(enc('k'), enc('w')));
      await again.close();
    } finally {
      await remove();
    }
  });

  it('refuses a data directory another holder has open with ERR_KV_DATA_DIR_LOCKED, and frees it on close', async () => {
    const { dir, remove } = await tempDir();
    try {
      const db = await openDatabase({ dataDir: dir });
      await expect(openDatabase({ dataDir: dir })).rejects.toMatchObject({
        code: 'ERR_KV_DATA_DIR_LOCKED',
        details: { pid: process.pid },
      });
      await db.close();
      const again = await openDatabase({ dataDir: dir });
      await again.close();
    } finally {
      await remove();
    }
  });

  it('refuses use after close with ERR_KV_DATABASE_CLOSED', async () => {
    const { dir, remove } = await tempDir();
    const db = await openDatabase({ dataDir: dir });
    await db.close();
    await expect(db.transact(async () => 1)).rejects.toMatchObject({ code: 'ERR_KV_DATABASE_CLOSED' });
    await remove();
  });

  it('waits for in-flight commits before closing', async () => {
    const { dir, remove } = await tempDir();
    try {
      const db = await openDatabase({ dataDir: dir });
      const commits = Array.from({ length: 50 }, (_, i) => db.transact(async tx => tx.set(enc(`k${i}`), enc('v'))));
      await Promise.all(commits);
      await db.close();
      const again = await openDatabase({ dataDir: dir });
      const { kvs } = await again.transact(tx => tx.getRange(enc('k'), enc('l')));
      expect(kvs).toHaveLength(50);
      await again.close();
    } finally {
      await remove();
    }
  });
});

describe('embedded on-disk layout (golden bytes: changing these orphans existing data)', () => {
  it('stores every key behind one 0x00 byte', () => {
    expect(STORED_KEY_PREFIX).toBe(0x00);
    expect(storedKey(enc('ab')).toString('hex')).toBe('006162');
    expect(storedKey(enc('')).toString('hex')).toBe('00');
    expect([...userKey(storedKey(enc('ab')))]).toEqual([0x61, 0x62]);
  });

  it('stores the commit version as 8 big-endian bytes', () => {
    expect(encodeVersion(258).toString('hex')).toBe('0000000000000102');
    expect(decodeVersion(encodeVersion(258))).toBe(258);
    expect(decodeVersion(undefined)).toBe(0);
  });
});
