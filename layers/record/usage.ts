import type { Transaction } from '../../src/kv/types.js';
import type { Collection } from './collections.js';
import { TENANT_BYTES_KEY, TENANT_POINTS_KEY } from './layout.js';

/**
 * Usage counters: points and stored bytes (payload records and vectors) per collection and per
 * tenant. Every write changes them with atomic adds in its own transaction, so they are exact under
 * any concurrency and never conflict with each other; a limit check reads one (with a conflict
 * range), which is what makes the limit exact too.
 */

/** What one operation changed; accumulated while it writes, applied once at its end. */
export interface UsageDelta {
  points: number;
  payloadBytes: number;
  vectorBytes: number;
}

/** A delta of nothing. */
export function noUsage(): UsageDelta {
  return { points: 0, payloadBytes: 0, vectorBytes: 0 };
}

/** An 8-byte little-endian add (two's complement for decreases). */
export function counterDelta(n: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(n));
  return b;
}

/** A counter's value (absent counts as 0; a counter never shown below 0). */
export async function readCounter(tx: Transaction, key: Uint8Array, options: { snapshot?: boolean } = {}): Promise<number> {
  const v = await tx.get(key, options);
  return v === undefined ? 0 : Math.max(0, Number(Buffer.from(v).readBigInt64LE()));
}

/** Apply `d` to the collection's counters and the tenant's. */
export function applyUsage(tx: Transaction, c: Collection, d: UsageDelta): void {
  if (d.points !== 0) {
    tx.add(c.keys.count, counterDelta(d.points));
    tx.add(TENANT_POINTS_KEY, counterDelta(d.points));
  }
  if (d.payloadBytes !== 0) tx.add(c.keys.payloadBytes, counterDelta(d.payloadBytes));
  if (d.vectorBytes !== 0) tx.add(c.keys.vectorBytes, counterDelta(d.vectorBytes));
  if (d.payloadBytes + d.vectorBytes !== 0) tx.add(TENANT_BYTES_KEY, counterDelta(d.payloadBytes + d.vectorBytes));
}

/** A collection's usage (its key layout is all it needs). */
export async function collectionUsage(tx: Transaction, c: Pick<Collection, 'keys'>, options: { snapshot?: boolean } = {}): Promise<{ points: number; payloadBytes: number; vectorBytes: number }> {
  const [points, payloadBytes, vectorBytes] = await Promise.all([readCounter(tx, c.keys.count, options), readCounter(tx, c.keys.payloadBytes, options), readCounter(tx, c.keys.vectorBytes, options)]);
  return { points, payloadBytes, vectorBytes };
}

/** The tenant's usage (the transaction's keyspace is the tenant's). */
export async function tenantUsage(tx: Transaction, options: { snapshot?: boolean } = {}): Promise<{ points: number; bytes: number }> {
  const [points, bytes] = await Promise.all([readCounter(tx, TENANT_POINTS_KEY, options), readCounter(tx, TENANT_BYTES_KEY, options)]);
  return { points, bytes };
}

/**
 * Move a collection's usage into the tenant's (`sign` 1: a collection restored in whole) or out of
 * it (-1: a collection deleted or replaced), in the transaction that does so.
 */
export async function countCollectionUsage(tx: Transaction, c: Pick<Collection, 'keys'>, sign: 1 | -1): Promise<void> {
  const u = await collectionUsage(tx, c);
  if (u.points !== 0) tx.add(TENANT_POINTS_KEY, counterDelta(sign * u.points));
  if (u.payloadBytes + u.vectorBytes !== 0) tx.add(TENANT_BYTES_KEY, counterDelta(sign * (u.payloadBytes + u.vectorBytes)));
}
