import type { Database, TransactOptions } from '../kv/types.js';
import { requireTenant, type TenantInfo } from './registry.js';
import { TenantTransaction } from './scoped.js';

/**
 * A handle on one tenant of a database: `transact` runs a function on a transaction confined to
 * the tenant's keyspace.
 *
 * The tenant is looked up inside every transaction (one read), so a tenant deleted or renamed
 * while a transaction runs makes that transaction conflict and retry, and then fail with
 * `ERR_TENANT_NOT_FOUND`: nothing is ever written under the prefix of a deleted tenant.
 *
 * @example
 * const acme = tenantHandle(db, 'acme');
 * await acme.transact(async tx => tx.set(key, value));
 */
export interface TenantHandle {
  readonly name: string;
  transact<T>(fn: (tx: TenantTransaction, tenant: TenantInfo) => Promise<T>, options?: TransactOptions): Promise<T>;
}

export function tenantHandle(db: Database, name: string): TenantHandle {
  return {
    name,
    transact: (fn, options) =>
      db.transact(async tx => {
        const tenant = await requireTenant(tx, name);
        return fn(new TenantTransaction(tx, tenant.prefix), tenant);
      }, options),
  };
}
