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

  it('hold until the token’s exp, and are swept after it', async () => {
    await db.transact(async tx => {
      revokeToken(tx, 'old', 1_000);
      revokeToken(tx, 'current', 5_000);
    });
    expect(await db.transact(tx => isRevoked(tx, 'current', 4_999))).toBe(true);
    expect(await db.transact(tx => isRevoked(tx, 'old', 1_000))).toBe(true);
    expect(await db.transact(tx => isRevoked(tx, 'old', 1_001))).toBe(false);
    expect(await db.transact(tx => isRevoked(tx, 'never', 0))).toBe(false);
    expect(await db.transact(tx => sweepRevocations(tx, 2_000))).toBe(1);
    const { begin, end } = REVOKED_JTI.range();
    const left = await db.transact(tx => tx.getRange(begin, end));
    expect(left.kvs.map(kv => REVOKED_JTI.unpack(kv.key)[0])).toEqual(['current']);
  });
});
