import { StrataError } from '../../src/errors.js';
import type { Transaction } from '../../src/kv/types.js';
import type { Collection } from './collections.js';
import { TENANT_BYTES_KEY, TENANT_POINTS_KEY } from './layout.js';
import { checkLimit, type StrictModeConfig } from './strict-mode.js';
import { applyUsage, readCounter, type UsageDelta } from './usage.js';

/**
 * Limits on what a write may make a collection or tenant hold: the collection's strict mode
 * (`max_points_count`, `max_collection_payload_size_bytes`, `max_collection_vector_size_bytes`)
 * and the tenant's quotas on points and bytes.
 *
 * A write applies its usage with atomic adds, then, for each limit that it grew towards, reads the
 * counter (its own adds included):
 * - a tenant quota with a read conflict range: two writes racing past it conflict, and the one
 *   that retries sees the other's points. Quotas are exact under any concurrency, at the price of
 *   serializing the growing writes of a tenant that has one;
 * - strict mode's limits with a snapshot read, as Qdrant checks them (its `max_points_count` is
 *   "estimated"): no conflicts, so concurrent writers may together pass one by their last batches.
 * Writes that shrink or keep usage never read, so deletes always pass.
 */

/** The limits a write runs under; absent fields are unlimited. */
export interface UsageLimits {
  /** The collection's strict mode, when enabled. */
  readonly strict?: StrictModeConfig | undefined;
  readonly tenantMaxPoints?: number | undefined;
  readonly tenantMaxBytes?: number | undefined;
}

function quotaError(name: string, value: number, limit: number): StrataError {
  return new StrataError(
    'ERR_QUOTA_EXCEEDED',
    `Bad request: Tenant quota exceeded: ${value} > ${limit} for "${name}". Help: delete points or ask an operator to raise the tenant's ${name}.`,
    { details: { name, value, limit } },
  );
}

/** Apply `usage` and refuse the write (by throwing, so nothing commits) when it passes a limit. */
export async function applyWithinLimits(tx: Transaction, c: Collection, usage: UsageDelta, limits: UsageLimits | undefined): Promise<void> {
  applyUsage(tx, c, usage);
  if (limits === undefined) return;
  const { strict } = limits;
  const grewBytes = usage.payloadBytes + usage.vectorBytes > 0;
  const checks: Array<Promise<void>> = [];
  const check = (key: Uint8Array, limit: number | undefined, grew: boolean, exact: boolean, fail: (value: number, limit: number) => void) => {
    if (limit === undefined || !grew) return;
    checks.push(readCounter(tx, key, { snapshot: !exact }).then(value => (value > limit ? fail(value, limit) : undefined)));
  };
  check(c.keys.count, strict?.max_points_count, usage.points > 0, false, (v, l) => checkLimit(v, l, 'max_points_count'));
  check(c.keys.payloadBytes, strict?.max_collection_payload_size_bytes, usage.payloadBytes > 0, false, (v, l) => checkLimit(v, l, 'max_collection_payload_size_bytes'));
  check(c.keys.vectorBytes, strict?.max_collection_vector_size_bytes, usage.vectorBytes > 0, false, (v, l) => checkLimit(v, l, 'max_collection_vector_size_bytes'));
  check(TENANT_POINTS_KEY, limits.tenantMaxPoints, usage.points > 0, true, (v, l) => {
    throw quotaError('max_points', v, l);
  });
  check(TENANT_BYTES_KEY, limits.tenantMaxBytes, grewBytes, true, (v, l) => {
    throw quotaError('max_bytes', v, l);
  });
  await Promise.all(checks);
}

/**
 * Refuse (`ERR_QUOTA_EXCEEDED`) when the tenant now holds more than its quotas, reading its counters
 * with conflict ranges: for changes that move usage wholesale, such as a collection restored from a
 * snapshot.
 */
export async function checkTenantQuota(tx: Transaction, limits: Pick<UsageLimits, 'tenantMaxPoints' | 'tenantMaxBytes'>): Promise<void> {
  const [points, bytes] = await Promise.all([readCounter(tx, TENANT_POINTS_KEY), readCounter(tx, TENANT_BYTES_KEY)]);
  if (limits.tenantMaxPoints !== undefined && points > limits.tenantMaxPoints) throw quotaError('max_points', points, limits.tenantMaxPoints);
  if (limits.tenantMaxBytes !== undefined && bytes > limits.tenantMaxBytes) throw quotaError('max_bytes', bytes, limits.tenantMaxBytes);
}
