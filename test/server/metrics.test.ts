import { expect, it } from 'vitest';
import { Metrics, TenantLabels } from '../../src/server/metrics.js';

it('gives a label of its own to each of the first tenants to become busy, the rest "other"', () => {
  const labels = new TenantLabels(2, 10);
  expect([labels.label('a'), labels.label('b')]).toEqual(['other', 'other']); // not busy yet
  expect(labels.label(undefined)).toBe('none');
  for (let i = 0; i < 10; i++) labels.label('b');
  for (let i = 0; i < 10; i++) labels.label('c');
  expect([labels.label('b'), labels.label('c')]).toEqual(['b', 'c']);
  // The labels are taken: a tenant busier still counts as other, so the series stay bounded.
  for (let i = 0; i < 100; i++) labels.label('d');
  expect(labels.label('d')).toBe('other');
  expect(labels.label('b')).toBe('b');
});

it('keeps a million tenants to a bounded number of series', async () => {
  const metrics = new Metrics({ tenantLabels: 5 });
  for (let i = 0; i < 20_000; i++) metrics.request('/collections/{name}/points/query', 'POST', 200, `tenant-${i}`, 0.001);
  for (let i = 0; i < 1_000; i++) metrics.request('/collections/{name}/points/query', 'POST', 200, `busy-${i % 8}`, 0.001);
  const text = await metrics.render();
  const lines = text.split('\n').filter(l => l.startsWith('strata_http_requests_total{'));
  const tenants = new Set(lines.map(l => /tenant="([^"]+)"/.exec(l)?.[1]));
  expect(tenants.size).toBe(6); // five busy tenants by name, and other
  expect(tenants.has('other')).toBe(true);
  expect(text).toMatch(/strata_http_request_duration_seconds_count\{route="[^"]+",tenant="other"\} \d+/);
});

it('reads observed values when scraped', async () => {
  const metrics = new Metrics();
  let hits = 3;
  metrics.observe('strata_token_cache_hits_total', 'token cache hits', () => hits, 'counter');
  expect(await metrics.render()).toContain('strata_token_cache_hits_total 3');
  hits = 7;
  expect(await metrics.render()).toContain('strata_token_cache_hits_total 7');
});

it('reports points and bytes for the labelled tenants only, read at each scrape', async () => {
  const metrics = new Metrics({ tenantLabels: 2 });
  for (const tenant of ['acme', 'globex']) for (let i = 0; i < 100; i++) metrics.request('/collections/{c}/points', 'PUT', 200, tenant, 0.001);
  for (let i = 0; i < 100; i++) metrics.request('/collections/{c}/points', 'PUT', 200, 'initech', 0.001);
  const usage: Record<string, { points: number; bytes: number }> = { acme: { points: 5, bytes: 120 }, globex: { points: 0, bytes: 0 }, initech: { points: 9, bytes: 9 } };
  const asked: string[] = [];
  metrics.observeTenants(
    async tenant => {
      asked.push(tenant);
      return usage[tenant];
    },
    { points: 'points held', bytes: 'bytes held' },
  );
  const text = await metrics.render();
  expect(text).toContain('strata_tenant_points{tenant="acme"} 5');
  expect(text).toContain('strata_tenant_bytes{tenant="acme"} 120');
  expect(text).toContain('strata_tenant_points{tenant="globex"} 0');
  // initech became busy after both labels were taken: it is neither read nor reported.
  expect(asked.sort()).toEqual(['acme', 'globex']);
  expect(text).not.toContain('initech');
  usage['acme'] = { points: 6, bytes: 130 };
  expect(await metrics.render()).toContain('strata_tenant_points{tenant="acme"} 6');
});

it('counts requests refused by a rate limit by scope, kind and tenant', async () => {
  const metrics = new Metrics();
  metrics.limited('subject', 'read', 'acme');
  metrics.limited('subject', 'read', 'acme');
  expect(await metrics.render()).toContain('strata_rate_limited_total{scope="subject",kind="read",tenant="other"} 2');
});
