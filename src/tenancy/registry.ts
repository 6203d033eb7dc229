import { StrataError } from '../errors.js';
import { prefixEnd } from '../kv/keys.js';
import type { Transaction } from '../kv/types.js';
import {
  decodeTenantId,
  encodeTenantId,
  TENANT_BY_ID,
  TENANT_BY_NAME,
  TENANT_COUNT_KEY,
  TENANT_LAST_ID_KEY,
  tenantPrefix,
} from './layout.js';
import { tenantNameBytes } from './name.js';
import { moveTenantLimits } from './limits.js';

/**
 * The tenant registry: names mapped to ids, in Strata's system subspace. Every function takes the
 * transaction first, so callers compose registry changes with other work atomically. Only trusted
 * callers should reach these functions; the server and CLI see to that.
 */

/** A tenant as the registry knows it. */
export interface TenantInfo {
  readonly name: string;
  readonly id: bigint;
  /** Where the tenant's data lives. */
  readonly prefix: Uint8Array;
}

/** The id as 16 hex digits, how the API shows it. */
export function tenantIdHex(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}

const MINUS_ONE = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const PLUS_ONE = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]);

function info(name: string, id: bigint): TenantInfo {
  return { name, id, prefix: tenantPrefix(id) };
}

/** The tenant called `name`, or undefined. */
export async function getTenant(tx: Transaction, name: string): Promise<TenantInfo | undefined> {
  const id = await tx.get(TENANT_BY_NAME.pack([tenantNameBytes(name)]));
  return id === undefined ? undefined : info(name, decodeTenantId(id));
}

/** The tenant called `name`, or `ERR_TENANT_NOT_FOUND`. */
export async function requireTenant(tx: Transaction, name: string): Promise<TenantInfo> {
  const tenant = await getTenant(tx, name);
  if (tenant === undefined) throw notFound(name);
  return tenant;
}

/** Create a tenant with a fresh id, or `ERR_TENANT_EXISTS`. */
export async function createTenant(tx: Transaction, name: string): Promise<TenantInfo> {
  const nameBytes = tenantNameBytes(name);
  if ((await tx.get(TENANT_BY_NAME.pack([nameBytes]))) !== undefined) throw exists(name);
  // Reading the last id makes concurrent creations conflict, so no id is handed out twice.
  const last = await tx.get(TENANT_LAST_ID_KEY);
  const id = (last === undefined ? 0n : decodeTenantId(last)) + 1n;
  tx.set(TENANT_LAST_ID_KEY, encodeTenantId(id));
  tx.set(TENANT_BY_NAME.pack([nameBytes]), encodeTenantId(id));
  tx.set(TENANT_BY_ID.pack([encodeTenantId(id)]), nameBytes);
  tx.add(TENANT_COUNT_KEY, PLUS_ONE);
  return info(name, id);
}

/** Options of {@link listTenants}. */
export interface ListTenantsOptions {
  /** First name to include. */
  readonly begin?: string;
  /** First name past the listing (exclusive). */
  readonly end?: string;
  /** At most this many (default 100, at most 10,000). */
  readonly limit?: number;
}

export const LIST_DEFAULT_LIMIT = 100;
export const LIST_MAX_LIMIT = 10_000;

/** Tenants in name order (bytewise on UTF-8), within [begin, end), at most `limit`. */
export async function listTenants(
  tx: Transaction,
  options: ListTenantsOptions = {},
): Promise<{ tenants: TenantInfo[]; more: boolean }> {
  const limit = options.limit ?? LIST_DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > LIST_MAX_LIMIT) {
    throw new StrataError('ERR_TENANT_LIMIT_INVALID', `limit must be a whole number from 1 to ${LIST_MAX_LIMIT}`, {
      details: { limit },
    });
  }
  const all = TENANT_BY_NAME.range();
  const begin = options.begin === undefined ? all.begin : TENANT_BY_NAME.pack([Buffer.from(options.begin, 'utf8')]);
  const end = options.end === undefined ? all.end : TENANT_BY_NAME.pack([Buffer.from(options.end, 'utf8')]);
  const { kvs, more } = await tx.getRange(begin, end, { limit });
  const tenants = kvs.map(({ key, value }) => {
    const [nameBytes] = TENANT_BY_NAME.unpack(key) as [Buffer];
    return info(nameBytes.toString('utf8'), decodeTenantId(value));
  });
  return { tenants, more };
}

/** How many tenants exist. */
export async function countTenants(tx: Transaction): Promise<number> {
  const v = await tx.get(TENANT_COUNT_KEY, { snapshot: true });
  return v === undefined ? 0 : Number(Buffer.from(v).readBigInt64LE());
}

/** Rename a tenant; its id and data stay. `ERR_TENANT_NOT_FOUND` or `ERR_TENANT_EXISTS`. */
export async function renameTenant(tx: Transaction, from: string, to: string): Promise<TenantInfo> {
  const toBytes = tenantNameBytes(to);
  const tenant = await requireTenant(tx, from);
  if (from === to) return tenant;
  if ((await tx.get(TENANT_BY_NAME.pack([toBytes]))) !== undefined) throw exists(to);
  tx.clear(TENANT_BY_NAME.pack([tenantNameBytes(from)]));
  tx.set(TENANT_BY_NAME.pack([toBytes]), encodeTenantId(tenant.id));
  tx.set(TENANT_BY_ID.pack([encodeTenantId(tenant.id)]), toBytes);
  await moveTenantLimits(tx, from, to);
  return info(to, tenant.id);
}

/**
 * Delete a tenant. Refused with `ERR_TENANT_NOT_EMPTY` while it holds data, unless `force`, which
 * deletes the data in the same transaction.
 */
export async function deleteTenant(tx: Transaction, name: string, options: { force?: boolean } = {}): Promise<TenantInfo> {
  const tenant = await requireTenant(tx, name);
  const end = prefixEnd(tenant.prefix);
  if (options.force === true) tx.clearRange(tenant.prefix, end);
  else if ((await tx.getRange(tenant.prefix, end, { limit: 1 })).kvs.length > 0) {
    throw new StrataError('ERR_TENANT_NOT_EMPTY', `tenant ${JSON.stringify(name)} still holds data; delete with force to remove it`, {
      details: { tenant: name },
    });
  }
  tx.clear(TENANT_BY_NAME.pack([tenantNameBytes(name)]));
  tx.clear(TENANT_BY_ID.pack([encodeTenantId(tenant.id)]));
  await moveTenantLimits(tx, name, undefined);
  tx.add(TENANT_COUNT_KEY, MINUS_ONE);
  return tenant;
}

function notFound(name: string): StrataError {
  return new StrataError('ERR_TENANT_NOT_FOUND', `no tenant is called ${JSON.stringify(name)}`, { details: { tenant: name } });
}

function exists(name: string): StrataError {
  return new StrataError('ERR_TENANT_EXISTS', `a tenant called ${JSON.stringify(name)} already exists`, { details: { tenant: name } });
}
