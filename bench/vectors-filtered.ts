import { parseFilter, type Filter } from '../layers/record/index.js';
import { clusteredVectors, exactNeighbours, seededRandom } from './vectors-data.js';
import { LanceStore } from './vectors-lance.js';
import { K, RECALL_TARGET, cheapestReaching, elapsedMs, measureOnce, rate, sweep, type Search, type Setting } from './vectors-measure.js';
import { StrataStore } from './vectors-strata.js';

/**
 * Multitenancy in one collection: `tenants` tenants of `perTenant` points, each tenant's points
 * around clusters of its own (tenants overlap in space), held-out queries pinned to one tenant by a
 * `must` match on the `tenant` field. Strata builds no global graph (`m: 0`) but one graph per
 * tenant (`payload_m`, an `is_tenant` keyword index); its exact search and LanceDB (a bitmap index
 * on `tenant`, no vector index: an exact scan of the tenant's rows) answer the same queries.
 * Points are loaded a tenant at a time, which keeps each tenant's rows together in LanceDB's file.
 */

export interface FilteredOptions {
  readonly tenants: number;
  readonly perTenant: number;
  readonly queriesPerTenant: number;
  readonly dim: number;
  readonly efs: readonly number[];
  readonly payloadM: number;
  readonly efConstruction: number;
  /** Queries timed with LanceDB (a subset when it is slow). */
  readonly lanceQueries: number;
}

export interface FilteredResult {
  readonly points: number;
  /** Strata's graph search: cheapest ef reaching the recall target. */
  readonly strata: Setting;
  readonly strataBuildPps: number;
  readonly exactQps: number;
  /** LanceDB's filtered search (ef 0: it has none). */
  readonly lance: Setting;
  readonly lanceBuildPps: number;
}

interface TenantQuery {
  readonly vector: Float32Array;
  readonly tenant: string;
  readonly filter: Filter;
  readonly truth: number[];
}

const COLLECTION = 'f';

/**
 * The points (id = index) with their tenants, and the queries with their truth within the tenant,
 * taken round-robin over the tenants (every tenant is active, as in a shared service).
 */
function tenantData(options: FilteredOptions): { points: Float32Array[]; tenantOf: string[]; queries: TenantQuery[] } {
  const rand = seededRandom(7);
  const points: Float32Array[] = [];
  const tenantOf: string[] = [];
  const byTenant: TenantQuery[][] = [];
  for (let t = 0; t < options.tenants; t++) {
    const tenant = `t${t}`;
    const vectors = clusteredVectors(options.perTenant + options.queriesPerTenant, options.dim, 5, rand);
    const members = Array.from({ length: options.perTenant }, (_, j) => points.length + j);
    points.push(...vectors.slice(0, options.perTenant));
    tenantOf.push(...members.map(() => tenant));
    const filter = parseFilter({ must: [{ key: 'tenant', match: { value: tenant } }] });
    byTenant.push(vectors.slice(options.perTenant).map(vector => ({ vector, tenant, filter, truth: exactNeighbours(points, vector, K, members) })));
  }
  const queries = Array.from({ length: options.queriesPerTenant }, (_, i) => byTenant.map(qs => qs[i] as TenantQuery)).flat();
  return { points, tenantOf, queries };
}

export async function runFiltered(options: FilteredOptions): Promise<FilteredResult> {
  const data = tenantData(options);
  return { points: data.points.length, ...(await strataFiltered(data, options)), ...(await lanceFiltered(data, options)) };
}

type TenantData = ReturnType<typeof tenantData>;

async function strataFiltered({ points, tenantOf, queries }: TenantData, options: FilteredOptions): Promise<Pick<FilteredResult, 'strata' | 'strataBuildPps' | 'exactQps'>> {
  const store = await StrataStore.open();
  try {
    await store.createCollection(
      COLLECTION,
      // full_scan_threshold 0: a tenant's graph answers even for a small tenant (Qdrant's rule would scan it).
      { vectors: { size: options.dim, distance: 'Euclid' }, hnsw_config: { m: 0, payload_m: options.payloadM, ef_construct: options.efConstruction, full_scan_threshold: 0 } },
      { tenant: { type: 'keyword', is_tenant: true } },
    );
    await store.upsert(COLLECTION, points.map((vector, id) => ({ id, vector, payload: { tenant: tenantOf[id] } })));
    const strataBuildPps = rate(points.length, await elapsedMs(() => store.linkAll()));
    const search = (exact: boolean): Search => (q, ef) => {
      const query = queries[q] as TenantQuery;
      return store.search(COLLECTION, query.vector, { ef, exact, filter: query.filter });
    };
    const truth = queries.map(q => q.truth);
    const strata = cheapestReaching(await sweep(options.efs, truth, search(false)), RECALL_TARGET);
    return { strata, strataBuildPps, exactQps: (await measureOnce(truth, search(true))).qps };
  } finally {
    await store.close();
  }
}

async function lanceFiltered({ points, tenantOf, queries }: TenantData, options: FilteredOptions): Promise<Pick<FilteredResult, 'lance' | 'lanceBuildPps'>> {
  const store = await LanceStore.open();
  try {
    const ms = (await store.createTable(COLLECTION, points.map((vector, id) => ({ id, vector, columns: { tenant: tenantOf[id] as string } })))) + (await store.indexColumn(COLLECTION, 'tenant'));
    const lanceBuildPps = rate(points.length, ms);
    const truth = queries.slice(0, options.lanceQueries).map(q => q.truth);
    const lance = await measureOnce(truth, q => {
      const query = queries[q] as TenantQuery;
      return store.search(COLLECTION, query.vector, `tenant = '${query.tenant}'`);
    });
    return { lance, lanceBuildPps };
  } finally {
    await store.close();
  }
}
