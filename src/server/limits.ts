import type { FastifyRequest } from 'fastify';
import type { Transaction } from '../kv/types.js';
import { getTenantLimits, type TenantLimits } from '../tenancy/limits.js';
import { requireTenant } from '../tenancy/registry.js';
import { TenantTransaction } from '../tenancy/scoped.js';
import { tenantUsage } from '../../layers/record/usage.js';
import type { UsageLimits } from '../../layers/record/limits.js';
import type { StrictModeConfig } from '../../layers/record/strict-mode.js';
import { RateLimiter, type RateKind } from './rate-limit.js';

/**
 * The limits a request runs under, beyond the collection's own: read and write rates per tenant and
 * per token subject (`sub`), and quotas on a tenant's points and bytes. Server-wide defaults come
 * from knobs; an operator may set a tenant's own (`PUT /v1/admin/tenants/{name}/limits`). Trusted
 * callers (operators) are never rate limited, not even by a collection's strict mode; quotas bind
 * every write through the Qdrant routes, as they protect the store.
 */

/** The server-wide defaults; 0 is unlimited. */
export interface LimitDefaults {
  readonly tenantReadRateLimit: number;
  readonly tenantWriteRateLimit: number;
  readonly subjectReadRateLimit: number;
  readonly subjectWriteRateLimit: number;
  readonly tenantMaxPoints: number;
  readonly tenantMaxBytes: number;
}

export const NO_LIMITS: LimitDefaults = { tenantReadRateLimit: 0, tenantWriteRateLimit: 0, subjectReadRateLimit: 0, subjectWriteRateLimit: 0, tenantMaxPoints: 0, tenantMaxBytes: 0 };

/** Where a refusal came from, for metrics. */
export type LimitScope = 'collection' | 'tenant' | 'subject';

/** A tenant's limits in force: its own over the defaults. */
export interface TenantLimitsInForce {
  readonly readRate: number;
  readonly writeRate: number;
  readonly maxPoints: number;
  readonly maxBytes: number;
}

/** What one request costs against the rates. */
export interface RateCharge {
  readonly kind: RateKind;
  readonly cost: number;
  /** The collection (by a key unique in the tenant) and its strict mode, when it has one enabled. */
  readonly collection?: { readonly id: number; readonly strict: StrictModeConfig | undefined };
}

/** See {@link RequestLimits.gate}. */
export interface RequestGate {
  inForce(tx: Transaction): Promise<TenantLimitsInForce>;
  charge(limits: TenantLimitsInForce, charge: RateCharge): void;
}

const positive = (n: number | undefined) => (n === undefined || n <= 0 ? undefined : n);

export class RequestLimits {
  readonly #defaults: LimitDefaults;
  readonly #collections: RateLimiter;
  readonly #tenants: RateLimiter;
  readonly #subjects: RateLimiter;
  readonly #onLimited: (scope: LimitScope, kind: RateKind, tenant: string) => void;

  constructor(defaults: LimitDefaults, options: { now?: () => number; onLimited?: (scope: LimitScope, kind: RateKind, tenant: string) => void } = {}) {
    this.#defaults = defaults;
    this.#collections = new RateLimiter(options.now);
    this.#tenants = new RateLimiter(options.now);
    this.#subjects = new RateLimiter(options.now);
    this.#onLimited = options.onLimited ?? (() => {});
  }

  /** `tenant`'s limits in force, read in `tx` (the raw transaction of the request). */
  async inForce(tx: Transaction, tenant: string): Promise<TenantLimitsInForce> {
    const own: TenantLimits = await getTenantLimits(tx, tenant);
    const d = this.#defaults;
    return {
      readRate: own.read_rate_limit ?? d.tenantReadRateLimit,
      writeRate: own.write_rate_limit ?? d.tenantWriteRateLimit,
      maxPoints: own.max_points ?? d.tenantMaxPoints,
      maxBytes: own.max_bytes ?? d.tenantMaxBytes,
    };
  }

  /**
   * Charge `request` against the rates: the collection's (strict mode), the tenant's and the
   * subject's. Throws `ERR_RATE_LIMITED` at the first that is used up (tokens already taken from
   * the others stay taken: a refused request still cost the server its checks).
   */
  charge(request: FastifyRequest, tenant: string, limits: TenantLimitsInForce, charge: RateCharge): void {
    if (request.principal.trusted) return;
    const { kind, cost } = charge;
    const take = (limiter: RateLimiter, scope: LimitScope, key: string, perMinute: number | undefined, what: string) => {
      if (perMinute === undefined) return;
      try {
        limiter.take(key, perMinute, cost, kind, what);
      } catch (err) {
        this.#onLimited(scope, kind, tenant);
        throw err;
      }
    };
    const strict = charge.collection?.strict;
    if (charge.collection !== undefined && strict !== undefined) {
      const rate = kind === 'read' ? strict.read_rate_limit : strict.write_rate_limit;
      // Keyed by tenant and collection id: a collection's rate is its own, whatever other tenants name theirs.
      take(this.#collections, 'collection', `${kind}\0${tenant}\0${charge.collection.id}`, positive(rate), `${kind}_rate_limit of the collection`);
    }
    take(this.#tenants, 'tenant', `${kind}\0${tenant}`, positive(kind === 'read' ? limits.readRate : limits.writeRate), `${kind} rate of tenant ${JSON.stringify(tenant)}`);
    const sub = request.principal.token?.sub;
    const d = this.#defaults;
    if (sub !== undefined) {
      take(this.#subjects, 'subject', `${kind}\0${sub}`, positive(kind === 'read' ? d.subjectReadRateLimit : d.subjectWriteRateLimit), `${kind} rate of subject ${JSON.stringify(sub)}`);
    }
  }

  /**
   * One request's gate: its tenant's limits read in each attempt of its transaction (they may have
   * changed), and its cost charged on the first attempt only, not again on a retry.
   */
  gate(request: FastifyRequest, tenant: string): RequestGate {
    let charged = false;
    return {
      inForce: tx => this.inForce(tx, tenant),
      charge: (limits, charge) => {
        if (charged) return;
        charged = true;
        this.charge(request, tenant, limits, charge);
      },
    };
  }

  /** The usage limits of a write to a collection under `strict` (enabled strict mode, or undefined). */
  usage(limits: TenantLimitsInForce, strict: StrictModeConfig | undefined): UsageLimits {
    return { strict, tenantMaxPoints: positive(limits.maxPoints), tenantMaxBytes: positive(limits.maxBytes) };
  }
}

/** What operators see of a tenant's limits: its own, those in force (where known), and its usage. */
export interface TenantLimitsReport {
  readonly name: string;
  readonly limits: TenantLimits;
  readonly in_force?: { read_rate_limit: number; write_rate_limit: number; max_points: number; max_bytes: number };
  readonly usage: { points: number; bytes: number };
}

/**
 * `name`'s limits report, read in `tx`; `ERR_TENANT_NOT_FOUND` for an unknown tenant. `in_force`
 * needs the server's defaults (`limits`); a local tool without them leaves it out.
 */
export async function tenantLimitsReport(tx: Transaction, name: string, limits?: RequestLimits): Promise<TenantLimitsReport> {
  const tenant = await requireTenant(tx, name);
  const [own, usage] = await Promise.all([getTenantLimits(tx, name), tenantUsage(new TenantTransaction(tx, tenant.prefix), { snapshot: true })]);
  if (limits === undefined) return { name, limits: own, usage };
  const f = await limits.inForce(tx, name);
  return { name, limits: own, in_force: { read_rate_limit: f.readRate, write_rate_limit: f.writeRate, max_points: f.maxPoints, max_bytes: f.maxBytes }, usage };
}
