import { StrataError } from '../errors.js';
import type { Transaction } from '../kv/types.js';
import { requireTenant } from '../tenancy/registry.js';
import { TenantTransaction } from '../tenancy/scoped.js';
import type { AccessClaim, PointsValueExists, ValueExistsClaim } from './claims.js';
import { isRevoked, revocationKey } from './revocation.js';
import { checkApiKeyBinding, checkExchangedFrom, type ApiKeyBinding } from './apikey-auth.js';

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
        /** The API key a token was exchanged from: it must still exist. */
        readonly akid?: string | undefined;
        /** An API key presented directly: it must still open. */
        readonly apiKey?: ApiKeyBinding | undefined;
      }
    | undefined;
}

/**
 * May `caller` address `tenant` at all? Trusted callers may reach any tenant; untrusted ones need
 * a token that lists it, unless tokenless access is on (an incremental rollout). A token limited to
 * collections (an `access` list) may use the collections API only, where each collection is checked.
 */
export function authorizeTenant(caller: Caller, tenant: string, allowTokenless: boolean, api: 'kv' | 'collections' = 'kv'): void {
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
  if (api === 'kv' && Array.isArray(caller.token.access)) {
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
 *
 * The reads are issued together and their answers taken in a fixed order (revocation first), so the
 * error a caller sees does not depend on timing; on FoundationDB, where each read is a network round
 * trip, this costs one round trip instead of three.
 */
export async function openTenantScope(tx: Transaction, caller: Caller, tenant: string, nowMs: number, checks: PolicyChecks = {}): Promise<TenantTransaction> {
  const token = caller.trusted ? undefined : caller.token;
  const revoked = token?.jti === undefined ? undefined : isRevoked(tx, token.jti, Math.floor(nowMs / 1000), keyOfRevocation(token, token.jti));
  const holds = token?.valueExists === undefined ? undefined : checkValueExists(tx, token.valueExists, tenant, checks);
  const keyed = token?.apiKey !== undefined ? checkApiKeyBinding(tx, token.apiKey, nowMs) : token?.akid !== undefined ? checkExchangedFrom(tx, token.akid) : undefined;
  const found = requireTenant(tx, tenant);
  // Whichever is awaited last may reject after an earlier one has thrown: handled, not unhandled.
  for (const pending of [keyed, holds, found]) pending?.catch(() => {});
  if (revoked !== undefined && (await revoked)) throw new StrataError('ERR_AUTH_TOKEN_REVOKED', 'the token was revoked');
  await keyed;
  await holds;
  const info = await found;
  return new TenantTransaction(tx, info.prefix, token?.access === 'r' ? refuseWrite : undefined);
}

// A cached token is the same object on every use, so its revocation key is packed once, not per
// request (packing a tuple costs about 1.4 µs, more than the lookup itself).
const revocationKeys = new WeakMap<object, Uint8Array>();

function keyOfRevocation(token: object, jti: string): Uint8Array {
  let key = revocationKeys.get(token);
  if (key === undefined) revocationKeys.set(token, (key = revocationKey(jti)));
  return key;
}

/**
 * What the policy asks of the layers above it (which it may not import): whether a point matching
 * a `value_exists` condition exists in a collection of the tenant.
 */
export interface PolicyChecks {
  readonly pointExists?: (tenantTx: TenantTransaction, claim: PointsValueExists) => Promise<boolean>;
}

/** The token holds only while its `value_exists` condition does. */
async function checkValueExists(tx: Transaction, claim: ValueExistsClaim, addressed: string, checks: PolicyChecks): Promise<void> {
  if (claim.kind === 'points') {
    // Without a record layer to ask (the native key-value API), such a token cannot be honoured
    // safely, so it is refused (fail closed) rather than accepted unchecked.
    if (checks.pointExists === undefined) throw new StrataError('ERR_AUTH_TOKEN_REVOKED', 'the token’s value_exists names a collection, which this API cannot check');
    const where = await requireTenant(tx, addressed);
    if (!(await checks.pointExists(new TenantTransaction(tx, where.prefix), claim))) {
      throw new StrataError('ERR_AUTH_TOKEN_REVOKED', 'the token’s value_exists condition no longer holds');
    }
    return;
  }
  const where = await requireTenant(tx, claim.tenant ?? addressed);
  const held = await new TenantTransaction(tx, where.prefix).get(Buffer.from(claim.key, 'base64'));
  if (held === undefined || Buffer.compare(held, Buffer.from(claim.value, 'base64')) !== 0) {
    throw new StrataError('ERR_AUTH_TOKEN_REVOKED', 'the token’s value_exists condition no longer holds');
  }
}
