import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The server's metrics for `GET /metrics` (Prometheus text format, through `prom-client`): requests,
 * latency and errors by route, status code and tenant; refusals by reason; and values read when
 * scraped (token cache, TLS throttling, key-set reloads, indexing backlog).
 *
 * Tenant labels are bounded: at most `tenantLabels` tenants get a label of their own, the rest
 * count as `other`, so a million tenants do not make a million series (see TenantLabels).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #tenants: TenantLabels;
  readonly #requests: Counter<'route' | 'method' | 'status' | 'tenant'>;
  readonly #latency: Histogram<'route' | 'tenant'>;
  readonly #errors: Counter<'route' | 'code' | 'tenant'>;
  readonly #denied: Counter<'reason'>;
  readonly #limited: Counter<'scope' | 'kind' | 'tenant'>;

  /** `tenantLabels`: how many tenants get a label of their own (default 100). */
  constructor(options: { tenantLabels?: number; processMetrics?: boolean } = {}) {
    this.#tenants = new TenantLabels(options.tenantLabels ?? 100);
    const registers = [this.registry];
    this.#requests = new Counter({ name: 'strata_http_requests_total', help: 'HTTP requests by route, method, status and tenant', labelNames: ['route', 'method', 'status', 'tenant'], registers });
    this.#latency = new Histogram({
      name: 'strata_http_request_duration_seconds',
      help: 'time to answer a request, by route and tenant',
      labelNames: ['route', 'tenant'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#errors = new Counter({ name: 'strata_http_errors_total', help: 'requests answered with an error, by route, error code and tenant', labelNames: ['route', 'code', 'tenant'], registers });
    this.#denied = new Counter({ name: 'strata_auth_denied_total', help: 'requests refused by authorization, by reason (error code)', labelNames: ['reason'], registers });
    this.#limited = new Counter({
      name: 'strata_rate_limited_total',
      help: 'requests refused by a rate limit, by the limit (collection, tenant or subject), its kind (read or write) and tenant',
      labelNames: ['scope', 'kind', 'tenant'],
      registers,
    });
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry, prefix: 'strata_' });
  }

  /** One answered request; `tenant` as named by the request (undefined: none). */
  request(route: string, method: string, status: number, tenant: string | undefined, seconds: number): void {
    const t = this.#tenants.label(tenant);
    this.#requests.inc({ route, method, status: String(status), tenant: t });
    this.#latency.observe({ route, tenant: t }, seconds);
  }

  /** A request answered with error `code` (and, for 401 and 403, refused by authorization). */
  error(route: string, code: string, status: number, tenant: string | undefined): void {
    this.#errors.inc({ route, code, tenant: this.#tenants.label(tenant) });
    if (status === 401 || status === 403) this.#denied.inc({ reason: code });
  }

  /** A request refused by a rate limit. */
  limited(scope: string, kind: string, tenant: string): void {
    this.#limited.inc({ scope, kind, tenant: this.#tenants.label(tenant) });
  }

  /** The tenants with a label of their own (for values read per tenant at a scrape). */
  labelledTenants(): string[] {
    return this.#tenants.labelled();
  }

  /**
   * Per-tenant values read at each scrape, for the labelled tenants only (bounded like every tenant
   * label): `read` gives a tenant's values by name, or undefined when it is gone.
   */
  observeTenants(read: (tenant: string) => Promise<Record<string, number> | undefined>, series: Record<string, string>): void {
    const tenants = this.#tenants;
    const gauges: Array<[string, Gauge<'tenant'>]> = [];
    // A scrape collects the gauges at once: they share one read of every tenant per scrape.
    let reading: Promise<void> | undefined;
    const readAll = async () => {
      const values = await Promise.all(tenants.labelled().map(async tenant => [tenant, await read(tenant).catch(() => undefined)] as const));
      for (const [field, g] of gauges) {
        g.reset();
        for (const [tenant, v] of values) if (v?.[field] !== undefined) g.set({ tenant }, v[field] as number);
      }
    };
    const collect = () => {
      reading ??= readAll().finally(() => {
        reading = undefined;
      });
      return reading;
    };
    for (const [field, help] of Object.entries(series)) {
      gauges.push([field, new Gauge({ name: `strata_tenant_${field}`, help, labelNames: ['tenant'], registers: [this.registry], collect })]);
    }
  }

  /** A value read at each scrape (a monotonic count is reported as a counter, others as gauges). */
  observe(name: string, help: string, read: () => number, kind: 'counter' | 'gauge' = 'gauge'): void {
    if (kind === 'counter') {
      new Counter({ name, help, registers: [this.registry], collect() { this.reset(); this.inc(read()); } });
    } else {
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    }
  }

  /**
   * A value read at each scrape, per label value: `read` gives the current values (monotonic counts
   * as a counter, others as gauges).
   */
  observeLabelled(name: string, help: string, label: string, read: () => Iterable<[string, number]>, kind: 'counter' | 'gauge' = 'gauge'): void {
    const config = { name, help, labelNames: [label], registers: [this.registry] };
    if (kind === 'counter') {
      new Counter({
        ...config,
        collect() {
          this.reset();
          for (const [value, n] of read()) this.inc({ [label]: value }, n);
        },
      });
    } else {
      new Gauge({
        ...config,
        collect() {
          this.reset();
          for (const [value, n] of read()) this.set({ [label]: value }, n);
        },
      });
    }
  }


  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Which tenants get a label of their own: the first `n` to become busy (`busy` requests counted
 * while they were recent), for the server's lifetime, since a series once reported stays. Counts
 * halve whenever the table of counts grows past 10n, so occasional tenants fade out of it and it
 * stays bounded; a tenant that keeps sending requests reaches `busy` all the same.
 */
export class TenantLabels {
  readonly #n: number;
  readonly #busy: number;
  readonly #counts = new Map<string, number>();
  readonly #labelled = new Set<string>();

  constructor(n: number, busy = 100) {
    this.#n = n;
    this.#busy = busy;
  }

  /** The tenants labelled so far. */
  labelled(): string[] {
    return [...this.#labelled];
  }

  label(tenant: string | undefined): string {
    if (tenant === undefined) return 'none';
    if (this.#labelled.has(tenant)) return tenant;
    if (this.#labelled.size >= this.#n) return 'other';
    const count = (this.#counts.get(tenant) ?? 0) + 1;
    this.#counts.set(tenant, count);
    if (count >= this.#busy) {
      this.#labelled.add(tenant);
      this.#counts.delete(tenant);
      return tenant;
    }
    if (this.#counts.size > this.#n * 10) this.#decay();
    return 'other';
  }

  #decay(): void {
    for (const [t, c] of this.#counts) {
      const half = c >> 1;
      if (half === 0) this.#counts.delete(t);
      else this.#counts.set(t, half);
    }
  }
}
