import { StrataError } from '../errors.js';
import type { Transaction } from '../kv/types.js';
import { TENANT_LIMITS } from './layout.js';
import { tenantNameBytes } from './name.js';

/**
 * A tenant's own limits, set by operators over the server-wide defaults (the `tenant_*` knobs):
 * read and write rates per minute, and quotas on points and stored bytes. Kept in Strata's system
 * subspace by tenant name (no tenant can reach it), so a rename moves them and a restore keeps them.
 * A field absent means the default; 0 means unlimited.
 */
export interface TenantLimits {
  readonly read_rate_limit?: number;
  readonly write_rate_limit?: number;
  readonly max_points?: number;
  readonly max_bytes?: number;
}

export const TENANT_LIMIT_FIELDS = ['read_rate_limit', 'write_rate_limit', 'max_points', 'max_bytes'] as const;

const keyOf = (name: string) => TENANT_LIMITS.pack([tenantNameBytes(name)]);

/** The limits set for `name` (none set: `{}`). A snapshot read: changing limits never conflicts with requests. */
export async function getTenantLimits(tx: Transaction, name: string): Promise<TenantLimits> {
  const raw = await tx.get(keyOf(name), { snapshot: true });
  return raw === undefined ? {} : (JSON.parse(Buffer.from(raw).toString('utf8')) as TenantLimits);
}

/**
 * Change `name`'s limits (the caller has checked the tenant exists): fields given are set, `null`
 * returns one to the default, others stay. `ERR_REQUEST_INVALID` for a bad body.
 */
export async function setTenantLimits(tx: Transaction, name: string, body: unknown): Promise<TenantLimits> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be an object');
  const next: Record<string, number> = { ...(await getTenantLimits(tx, name)) };
  for (const [field, value] of Object.entries(body)) {
    if (!(TENANT_LIMIT_FIELDS as readonly string[]).includes(field)) throw invalid(`unknown field ${JSON.stringify(field)}; limits are ${TENANT_LIMIT_FIELDS.join(', ')}`);
    if (value === null) delete next[field];
    else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) next[field] = value;
    else throw invalid(`${field} must be a whole number, 0 or more (0: unlimited), or null (the server's default)`);
  }
  if (Object.keys(next).length === 0) tx.clear(keyOf(name));
  else tx.set(keyOf(name), Buffer.from(JSON.stringify(next)));
  return next;
}

/** Forget `name`'s limits (the tenant is deleted), or move them (renamed). */
export async function moveTenantLimits(tx: Transaction, from: string, to: string | undefined): Promise<void> {
  const raw = await tx.get(keyOf(from));
  if (raw === undefined) return;
  tx.clear(keyOf(from));
  if (to !== undefined) tx.set(keyOf(to), raw);
}

function invalid(message: string): StrataError {
  return new StrataError('ERR_REQUEST_INVALID', message);
}
