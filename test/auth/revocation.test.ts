import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRevoked, REVOKED_JTI, revokeToken, sweepRevocations } from '../../src/auth/revocation.js';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { tempDir } from '../helpers/tmp.js';

describe('token revocations', () => {
  let db: Database;
  let remove: () => Promise<void>;
  beforeEach(async () => {
    const t = await tempDir();
    remove = t.remove;
    db = await openDatabase({ dataDir: t.dir });
  });
  afterEach(async () => {
    await db.close();
    await remove();
  });

  it('live in the system subspace under a pinned key (golden bytes)', () => {
    expect(Buffer.from(REVOKED_JTI.pack(['j'])).toString('hex')).toBe('fe' + '026175746800' + '027265766f6b65645f6a746900' + '026a00');
  });

  it('hold until the token’s exp plus the largest clock skew, then are swept; without exp, for good', async () => {
    await db.transact(async tx => {
      revokeToken(tx, 'old', 1_000);
      revokeToken(tx, 'current', 5_000);
      revokeToken(tx, 'unknown-exp');
      revokeToken(tx, 'absurd', 1e20);
    });
    expect(await db.transact(tx => isRevoked(tx, 'current', 4_999))).toBe(true);
    // A server allowing 60 s of skew still accepts the token until exp + 60: so must the revocation hold.
    expect(await db.transact(tx => isRevoked(tx, 'old', 1_060))).toBe(true);
    expect(await db.transact(tx => isRevoked(tx, 'old', 1_061))).toBe(false);
    expect(await db.transact(tx => isRevoked(tx, 'unknown-exp', 9e15))).toBe(true);
    expect(await db.transact(tx => isRevoked(tx, 'absurd', 9e15))).toBe(true);
    expect(await db.transact(tx => isRevoked(tx, 'never', 0))).toBe(false);
    expect(await db.transact(tx => sweepRevocations(tx, 2_000))).toEqual({ dropped: 1, next: undefined });
    const { begin, end } = REVOKED_JTI.range();
    const left = await db.transact(tx => tx.getRange(begin, end));
    expect(left.kvs.map(kv => REVOKED_JTI.unpack(kv.key)[0]).sort()).toEqual(['absurd', 'current', 'unknown-exp']);
  });

  it('sweeps past a first page of live revocations, with a cursor', async () => {
    await db.transact(async tx => {
      for (let i = 0; i < 5; i++) revokeToken(tx, `live-${i}`, 10_000);
      revokeToken(tx, 'z-lapsed', 10);
    });
    let after: Uint8Array | undefined;
    let dropped = 0;
    do {
      const r: { dropped: number; next: Uint8Array | undefined } = await db.transact(tx => sweepRevocations(tx, 1_000, { limit: 2, ...(after === undefined ? {} : { after }) }));
      dropped += r.dropped;
      after = r.next;
    } while (after !== undefined);
    expect(dropped).toBe(1);
    expect(await db.transact(tx => isRevoked(tx, 'live-4', 1_000))).toBe(true);
  });
});
