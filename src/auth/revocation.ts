import { SYSTEM } from '../tenancy/layout.js';
import type { Transaction } from '../kv/types.js';

/**
 * Revoked token ids (`jti`), kept in Strata's system subspace so that every server on the same
 * FoundationDB cluster sees a revocation at once. Each is kept until the token's own expiry, after
 * which the token is refused anyway and the entry is dropped. On-disk layout pinned by
 * test/auth/revocation.test.ts.
 */
export const REVOKED_JTI = SYSTEM.subspace(['auth', 'revoked_jti']);

/** Revoke `jti` until `expiresAt` (epoch seconds). */
export function revokeToken(tx: Transaction, jti: string, expiresAt: number): void {
  const v = Buffer.alloc(8);
  v.writeBigUInt64BE(BigInt(Math.max(0, Math.ceil(expiresAt))));
  tx.set(REVOKED_JTI.pack([jti]), v);
}

/** True when `jti` is revoked and the revocation has not lapsed at `nowSeconds`. */
export async function isRevoked(tx: Transaction, jti: string, nowSeconds: number): Promise<boolean> {
  const v = await tx.get(REVOKED_JTI.pack([jti]));
  return v !== undefined && Number(Buffer.from(v).readBigUInt64BE()) >= nowSeconds;
}

/** Drop up to `limit` lapsed revocations; returns how many. */
export async function sweepRevocations(tx: Transaction, nowSeconds: number, limit = 1000): Promise<number> {
  const { begin, end } = REVOKED_JTI.range();
  const { kvs } = await tx.getRange(begin, end, { limit, snapshot: true });
  let dropped = 0;
  for (const { key, value } of kvs) {
    if (Number(Buffer.from(value).readBigUInt64BE()) < nowSeconds) {
      tx.clear(key);
      dropped++;
    }
  }
  return dropped;
}
