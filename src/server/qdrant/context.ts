import type { FastifyRequest } from 'fastify';
import { grantFor, type CollectionGrant, type CollectionNeed } from '../../auth/collection-access.js';
import type { PointsValueExists } from '../../auth/claims.js';
import { authorizeTenant, openTenantScope, type PolicyChecks } from '../../auth/policy.js';
import { StrataError } from '../../errors.js';
import type { Transaction } from '../../kv/types.js';
import type { TenantTransaction } from '../../tenancy/scoped.js';
import { tenantNameBytes } from '../../tenancy/name.js';
import { openCollection, requireCollection, type Collection } from '../../../layers/record/collections.js';
import type { UsageLimits } from '../../../layers/record/limits.js';
import { activeStrictMode, checkLimit, type StrictModeConfig } from '../../../layers/record/strict-mode.js';
import type { RateKind } from '../rate-limit.js';
import { CONDITION_KINDS, type Filter } from '../../../layers/record/filter/types.js';
import { parsePayloadPath } from '../../../layers/record/payload-path.js';
import { selectPoints } from '../../../layers/record/read.js';
import type { AppDeps } from '../app.js';

/**
 * The tenant and rights of a Qdrant-API request. The tenant is the `x-strata-tenant` header
 * (percent-encoded), or the only tenant the token lists. Every operation runs in one transaction
 * opened through the shared policy (revocation and `value_exists` checked on this use), with the
 * caller's grant for the collection it names.
 */

/** A request's transaction retries a few times within a few seconds (as the native routes). */
export const REQUEST_TRANSACTION = { retryLimit: 10, timeoutMs: 10_000 } as const;

/** The tenant a Qdrant-API request addresses. */
export function requestTenant(request: FastifyRequest): string {
  const header = request.headers['x-strata-tenant'];
  if (typeof header === 'string' && header !== '') {
    let name: string;
    try {
      name = decodeURIComponent(header);
    } catch {
      throw new StrataError('ERR_TENANT_NAME_INVALID', 'the x-strata-tenant header is not valid percent-encoding');
    }
    tenantNameBytes(name); // checks the name
    return name;
  }
  const tenants = request.principal.token?.tenants;
  if (!request.principal.trusted && tenants?.length === 1) return tenants[0] as string;
  throw new StrataError('ERR_REQUEST_INVALID', 'name the tenant with the x-strata-tenant header (the token does not list exactly one)');
}

/** `value_exists` on a collection: a point matching every condition exists. */
async function pointExists(tenantTx: TenantTransaction, claim: PointsValueExists): Promise<boolean> {
  const c = await openCollection(tenantTx, claim.collection);
  if (c === undefined) return false;
  const filter: Filter = {
    must: claim.matches.map(m => ({ kind: CONDITION_KINDS.matchValue, key: parsePayloadPath(m.key), value: m.value })),
    should: [],
    mustNot: [],
  };
  for await (const _ of selectPoints(tenantTx, c, { filter })) return true;
  return false;
}
const CHECKS: PolicyChecks = { pointExists };

/** Authorize the tenant of `request` (before its body is read). */
export function authorizeQdrantTenant(deps: AppDeps, request: FastifyRequest): string {
  const tenant = requestTenant(request);
  authorizeTenant(request.principal, tenant, deps.knobs.allowTokenlessTenantAccess, 'collections');
  return tenant;
}

/** The access claim that limits the caller (none for trusted and tokenless callers). */
export function callerAccess(request: FastifyRequest) {
  return request.principal.trusted ? undefined : request.principal.token?.access;
}

/**
 * Qdrant's `?timeout=SECONDS` (on every route that takes it): how long the request's transaction
 * may run, retries included. Undefined when not given.
 */
export function requestTimeout(request: FastifyRequest): number | undefined {
  const raw = (request.query as Record<string, unknown> | undefined)?.['timeout'];
  if (raw === undefined || raw === '') return undefined;
  const seconds = typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!(seconds >= 1)) throw new StrataError('ERR_QUERY_INVALID', 'timeout: must be a whole number of seconds, 1 or more');
  return seconds;
}

function transactOptions(timeout: number | undefined) {
  return timeout === undefined ? REQUEST_TRANSACTION : { ...REQUEST_TRANSACTION, timeoutMs: timeout * 1000 };
}

/**
 * Run `fn` for `request` on `collection` needing `need`: checks the grant, then runs `fn` in one
 * transaction confined to the tenant. `fn` may run more than once (retries). For collection
 * management and listing; operations on a collection's points go through {@link inCollection}.
 */
export async function inTenant<T>(
  deps: AppDeps,
  request: FastifyRequest,
  collection: string | undefined,
  need: CollectionNeed,
  fn: (tx: TenantTransaction, grant: CollectionGrant) => Promise<T>,
): Promise<T> {
  const tenant = authorizeQdrantTenant(deps, request);
  const grant = collection === undefined ? {} : grantFor(callerAccess(request), collection, need);
  const gate = deps.limits.gate(request, tenant);
  // Collection management costs one operation of the tenant's (and subject's) rates.
  const kind = need === 'read' ? 'read' : 'write';
  return deps.db.transact(async (raw: Transaction) => {
    const [tx, inForce] = await Promise.all([openTenantScope(raw, request.principal, tenant, deps.now(), CHECKS), gate.inForce(raw)]);
    gate.charge(inForce, { kind, cost: 1 });
    return fn(tx, grant);
  }, transactOptions(requestTimeout(request)));
}

/** What an operation on a collection's points is, for its limits. */
export interface PointsOp {
  readonly kind: RateKind;
  /** Its cost against the rates (see rate-limit.ts). */
  readonly cost: number;
  /** The collection's strict-mode checks of this request (run before it is charged against the rates). */
  readonly verify?: (strict: StrictModeConfig, c: Collection) => void;
}

/** What `fn` gets: the tenant's transaction, the open collection, the caller's grant and the write limits. */
export interface PointsContext {
  readonly tx: TenantTransaction;
  readonly c: Collection;
  readonly grant: CollectionGrant;
  readonly limits: UsageLimits;
}

/**
 * Run an operation on `collection`'s points: as {@link inTenant}, then in the transaction the
 * collection's strict mode (`max_timeout`, then `op.verify`), then the rates (the collection's, the
 * tenant's, the subject's; charged once, not again on a retry), then `fn`.
 */
export async function inCollection<T>(
  deps: AppDeps,
  request: FastifyRequest,
  collection: string,
  need: CollectionNeed,
  op: PointsOp,
  fn: (ctx: PointsContext) => Promise<T>,
): Promise<T> {
  const tenant = authorizeQdrantTenant(deps, request);
  const grant = grantFor(callerAccess(request), collection, need);
  const timeout = requestTimeout(request);
  const gate = deps.limits.gate(request, tenant);
  return deps.db.transact(async (raw: Transaction) => {
    const [tx, inForce] = await Promise.all([openTenantScope(raw, request.principal, tenant, deps.now(), CHECKS), gate.inForce(raw)]);
    const c = await requireCollection(tx, collection);
    const strict = activeStrictMode(c.config.strict);
    if (strict !== undefined) {
      checkLimit(timeout, strict.max_timeout, 'timeout');
      op.verify?.(strict, c);
    }
    gate.charge(inForce, { kind: op.kind, cost: op.cost, collection: { id: c.id, strict } });
    return fn({ tx, c, grant, limits: deps.limits.usage(inForce, strict) });
  }, transactOptions(timeout));
}
