import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { RESTORE_MARKERS, tenantPrefix } from '../../src/tenancy/layout.js';
import { createTenant } from '../../src/tenancy/registry.js';
import { tenantHandle } from '../../src/tenancy/tenant.js';
import { writeSnapshotFile } from '../../src/snapshot/create.js';
import { restoreSnapshotFile } from '../../src/snapshot/restore.js';
import { tempDir } from '../helpers/tmp.js';
import { seedTenant, tenantDump } from './fixtures.js';

const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ dir, remove } = await tempDir('strata-snapshot-kill'));
});
afterAll(async () => remove());

async function markers(db: Database) {
  const { begin, end } = RESTORE_MARKERS.range();
  return (await db.transact(tx => tx.getRange(begin, end))).kvs.map(({ key }) => RESTORE_MARKERS.unpack(key));
}

it('a restore killed with SIGKILL halfway leaves the old data as it was; the next restore cleans its orphan', async () => {
  const data = join(dir, 'data');
  const big = join(dir, 'big.snapshot');
  let db = await openDatabase({ dataDir: data });
  // The victim: a tenant with points and a graph. The snapshot to restore over it: 160 MB of
  // incompressible values, so the restore is still writing when it is killed.
  await seedTenant(db, 'victim', { points: 100 });
  await db.transact(tx => createTenant(tx, 'big'));
  for (let i = 0; i < 80_000; i += 2000) {
    await tenantHandle(db, 'big').transact(async tx => {
      for (let j = i; j < i + 2000; j++) tx.set(Buffer.from(`blob/${String(j).padStart(8, '0')}`), randomBytes(2000));
    });
  }
  await writeSnapshotFile(db, { tenant: 'big' }, big);
  const before = await tenantDump(db, 'victim');
  await db.close();

  const child = spawn(process.execPath, [bin, 'snapshot', 'restore', big, '--tenant', 'victim', '--data-dir', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
  let stderr = '';
  // Killed once a progress line shows a tenth of the file read: several chunks are written by then.
  const killedAt = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const percents = [...stderr.matchAll(/\((\d+)%\)/g)].map(m => Number(m[1]));
      const last = percents.at(-1) ?? 0;
      if (last >= 10 && last < 100 && child.kill('SIGKILL')) resolve(last);
    });
    void exited.then(code => reject(new Error(`the restore ended (${String(code)}) before it was killed:\n${stderr}`)));
  });
  expect(killedAt).toBeGreaterThanOrEqual(10);
  await exited;

  db = await openDatabase({ dataDir: data });
  try {
    expect(await tenantDump(db, 'victim')).toEqual(before);
    // What the dead restore left: its marker, and data under an id no tenant has.
    const [marker] = await markers(db);
    expect(marker?.[0]).toBe('tenant');
    const orphan = tenantPrefix(BigInt(marker?.[1] as number));
    const end = Buffer.from(orphan);
    end[end.length - 1] = (end[end.length - 1] as number) + 1;
    expect((await db.transact(tx => tx.getRange(orphan, end, { limit: 1 }))).kvs.length).toBe(1);

    // The next restore (once the dead one's heartbeat is stale) removes it, and restores its own file.
    const small = join(dir, 'victim.snapshot');
    await writeSnapshotFile(db, { tenant: 'victim' }, small);
    await restoreSnapshotFile(db, small, { tenant: 'victim', now: () => Date.now() + 10 * 60_000 });
    expect(await markers(db)).toEqual([]);
    expect((await db.transact(tx => tx.getRange(orphan, end, { limit: 1 }))).kvs).toEqual([]);
    expect(await tenantDump(db, 'victim')).toEqual(before);
  } finally {
    await db.close();
  }
}, 180_000);
