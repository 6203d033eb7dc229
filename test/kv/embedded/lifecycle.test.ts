import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/kv/open.js';
import { enc } from '../../helpers/bytes.js';
import { tempDir } from '../../helpers/tmp.js';

const child = fileURLToPath(new URL('./lock-child.mjs', import.meta.url));
const run = (dir: string, holdMs: number) =>
  new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [child, dir, String(holdMs)], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
  );

describe('embedded engine lifecycle', () => {
  it('lets exactly one of several processes racing for a data directory hold it', async () => {
    const { dir, remove } = await tempDir('strata-lock');
    try {
      // A lock file left by a process that no longer exists must not matter.
      await writeFile(join(dir, 'strata.lock'), JSON.stringify({ pid: 999_999_999, host: 'x', start: null }));
      for (let trial = 0; trial < 3; trial++) {
        const outcomes = await Promise.all(Array.from({ length: 6 }, () => run(dir, 1_500)));
        expect(outcomes.filter(o => o === 'acquired'), `trial ${trial}: ${outcomes.join(',')}`).toHaveLength(1);
        expect(outcomes.filter(o => o === 'ERR_KV_DATA_DIR_LOCKED')).toHaveLength(5);
      }
    } finally {
      await remove();
    }
  }, 60_000);

  it('closes the range cursor of a read stopped by its limit (1,100 commits do not exhaust reader slots)', async () => {
    const { dir, remove } = await tempDir();
    const db = await openDatabase({ dataDir: dir });
    try {
      await db.transact(async tx => {
        for (let i = 0; i < 10; i++) tx.set(enc(`r/${i}`), enc('v'));
      });
      // Each commit moves the store to a new snapshot, so a leaked cursor pins a reader slot of its own.
      for (let i = 0; i < 1_100; i++) {
        await db.transact(async tx => {
          tx.set(enc('r/0'), enc(`local-${i}`)); // a local write makes the read merge with the snapshot
          await tx.getRange(enc('r/'), enc('r0'), { limit: 1 });
          await tx.getRange(enc('r/'), enc('r0'), { limit: 1, reverse: true });
        });
      }
      expect((await db.transact(tx => tx.getRange(enc('r/'), enc('r0')))).kvs).toHaveLength(10);
    } finally {
      await db.close();
      await remove();
    }
  }, 60_000);

  it('fails transactions still open at close with ERR_KV_DATABASE_CLOSED, and lets them be released', async () => {
    const { dir, remove } = await tempDir();
    const db = await openDatabase({ dataDir: dir });
    let release!: () => void;
    const held = new Promise<void>(resolve => (release = resolve));
    let reading!: () => void;
    const hasRead = new Promise<void>(resolve => (reading = resolve));
    const open = db.transact(
      async tx => {
        await tx.get(enc('k'));
        reading();
        await held;
        await tx.get(enc('k'));
      },
      { retryLimit: 0 },
    );
    await hasRead;
    await db.close();
    release();
    await expect(open).rejects.toMatchObject({ code: 'ERR_KV_DATABASE_CLOSED' });
    await expect(db.transact(async tx => tx.get(enc('k')))).rejects.toMatchObject({ code: 'ERR_KV_DATABASE_CLOSED' });
    await remove();
  });

  it('refuses to create a store when asked not to, with ERR_KV_STORE_NOT_FOUND', async () => {
    const { dir, remove } = await tempDir();
    await expect(openDatabase({ dataDir: join(dir, 'missing'), create: false })).rejects.toMatchObject({ code: 'ERR_KV_STORE_NOT_FOUND' });
    await expect(openDatabase({ dataDir: dir, create: false })).rejects.toMatchObject({ code: 'ERR_KV_STORE_NOT_FOUND' });
    await (await openDatabase({ dataDir: dir })).close();
    await remove();
  });
});
