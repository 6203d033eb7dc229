import { keyAfter } from '../kv/keys.js';
import type { Transaction } from '../kv/types.js';
import { SYSTEM } from '../tenancy/layout.js';
import { MAX_CLOCK_SKEW_SECONDS } from './token.js';

/**
 * Revoked token ids (`jti`), kept in Strata's system subspace so that every server on the same
 * FoundationDB cluster sees a revocation at once. Each is kept until the token can no longer be
 * accepted anyway (its `exp` plus the largest clock skew a server may allow), then dropped by the
 * sweep; one revoked without a known `exp` is kept for good. Layout pinned by
 * test/auth/revocation.test.ts.
 */
export const REVOKED_JTI = SYSTEM.subspace(['auth', 'revoked_jti']);

/** Stored as the "until" of a revocation whose token's expiry is unknown: never lapses. */
export const REVOKED_FOREVER = Number.MAX_SAFE_INTEGER;

/** Where the revocation of `jti` is stored. */
export function revocationKey(jti: string): Uint8Array {
  return REVOKED_JTI.pack([jti]);
}

/** Revoke `jti` until `expiresAt` (epoch seconds; default: for good). */
export function revokeToken(tx: Transaction, jti: string, expiresAt: number = REVOKED_FOREVER): void {
  const until = Math.min(REVOKED_FOREVER, Math.max(0, Math.ceil(expiresAt)));
  const v = Buffer.alloc(8);
  v.writeBigUInt64BE(BigInt(until));
  tx.set(revocationKey(jti), v);
}

/** Whether a revocation stored `until` still refuses tokens at `nowSeconds`. */
function holds(until: number, nowSeconds: number): boolean {
  return until === REVOKED_FOREVER || until + MAX_CLOCK_SKEW_SECONDS >= nowSeconds;
}

const untilOf = (value: Uint8Array) => Number(Buffer.from(value).readBigUInt64BE());

/**
 * True when `jti` is revoked at `nowSeconds`. `key` is its {@link revocationKey}, for callers that
 * keep it: packing a tuple costs more than the lookup on the embedded engine.
 */
export async function isRevoked(tx: Transaction, jti: string, nowSeconds: number, key: Uint8Array = revocationKey(jti)): Promise<boolean> {
  const v = await tx.get(key);
  return v !== undefined && holds(untilOf(v), nowSeconds);
}

/**
 * Drop lapsed revocations, up to `limit` entries from `after` (a cursor from the previous call).
 * Reads are ordinary (not snapshot) reads, so a concurrent re-revocation of the same jti makes this
 * sweep conflict and retry rather than be erased. Returns how many were dropped and where to go on
 * (undefined once the end is reached: start over next time).
 */
export async function sweepRevocations(
  tx: Transaction,
  nowSeconds: number,
  options: { after?: Uint8Array; limit?: number } = {},
): Promise<{ dropped: number; next: Uint8Array | undefined }> {
  const { begin, end } = REVOKED_JTI.range();
  const { kvs, more } = await tx.getRange(options.after ?? begin, end, { limit: options.limit ?? 1000 });
  let dropped = 0;
  for (const { key, value } of kvs) {
    if (!holds(untilOf(value), nowSeconds)) {
      tx.clear(key);
      dropped++;
    }
  }
  const last = kvs[kvs.length - 1];
  return { dropped, next: more && last !== undefined ? keyAfter(last.key) : undefined };
}
