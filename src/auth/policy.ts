import { StrataError } from '../errors.js';
import type { Transaction } from '../kv/types.js';
import { requireTenant } from '../tenancy/registry.js';
import { TenantTransaction } from '../tenancy/scoped.js';
import type { AccessClaim, ValueExistsClaim } from './claims.js';
import { isRevoked } from './revocation.js';

/**
 * The tenant policy, one function for the server's routes and for in-process callers alike:
 * what an untrusted caller with a verified token may reach, checked inside the transaction that
 * does the work, so a revocation or a `value_exists` flip takes effect on the very next use.
 */

/** What the policy needs to know of the caller. */
export interface Caller {
  readonly trusted: boolean;
  readonly token:
    | {
        readonly tenants: readonly string[];
        readonly jti?: string | undefined;
        readonly valueExists?: ValueExistsClaim | undefined;
        readonly access?: AccessClaim | undefined;
      }
    | undefined;
}

/**
 * May `caller` address `tenant` at all? Trusted callers may reach any tenant; untrusted ones need
 * a token that lists it, unless tokenless access is on (an incremental rollout).
 */
export function authorizeTenant(caller: Caller, tenant: string, allowTokenless: boolean): void {
  if (caller.trusted) return;
  if (caller.token === undefined) {
    if (allowTokenless) return;
    throw new StrataError('ERR_AUTH_TOKEN_MISSING', 'a token is required: send Authorization: Bearer <token>');
  }
  if (!caller.token.tenants.includes(tenant)) {
    throw new StrataError('ERR_AUTH_TENANT_FORBIDDEN', `the token does not grant tenant ${JSON.stringify(tenant)}`, { details: { tenant } });
  }
  // An access list limits the token to collections (and maybe a payload scope), which the native
  // key-value API cannot honour: refused outright rather than granting the whole keyspace.
  if (Array.isArray(caller.token.access)) {
    throw new StrataError('ERR_ACCESS_COLLECTION_SCOPED', 'the token is limited to collections; the native key-value API is outside its scope');
  }
}

const refuseWrite = (): never => {
  throw new StrataError('ERR_ACCESS_READ_ONLY', 'the token grants read access only');
};

/**
 * Open `tenant` for `caller` inside `tx`: the token's revocation and `value_exists` conditions are
 * checked on this use, then the tenant is looked up and a transaction confined to it returned.
 * Call {@link authorizeTenant} first.
 */
export async function openTenantScope(tx: Transaction, caller: Caller, tenant: string, nowMs: number): Promise<TenantTransaction> {
  const token = caller.trusted ? undefined : caller.token;
  if (token?.jti !== undefined && (await isRevoked(tx, token.jti, Math.floor(nowMs / 1000)))) {
    throw new StrataError('ERR_AUTH_TOKEN_REVOKED', 'the token was revoked');
  }
  if (token?.valueExists !== undefined) await checkValueExists(tx, token.valueExists, tenant);
  const info = await requireTenant(tx, tenant);
  return new TenantTransaction(tx, info.prefix, token?.access === 'r' ? refuseWrite : undefined);
}

/** The token holds only while its `value_exists` condition does. */
async function checkValueExists(tx: Transaction, claim: ValueExistsClaim, addressed: string): Promise<void> {
  if (claim.kind === 'points') {
    // Checked against collections once the record layer exists. Until then such a token cannot be
    // honoured safely, so it is refused (fail closed) rather than accepted unchecked.
    throw new StrataError('ERR_AUTH_TOKEN_REVOKED', 'the token’s value_exists names a collection, which this server cannot check yet');
  }
  const where = await requireTenant(tx, claim.tenant ?? addressed);
  const held = await new TenantTransaction(tx, where.prefix).get(Buffer.from(claim.key, 'base64'));
  if (held === undefined || Buffer.compare(held, Buffer.from(claim.value, 'base64')) !== 0) {
    throw new StrataError('ERR_AUTH_TOKEN_REVOKED', 'the token’s value_exists condition no longer holds');
  }
}
