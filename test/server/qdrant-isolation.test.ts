import { QdrantClient } from '@qdrant/js-client-rest';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import { devCertificatePaths, type DevCertificates } from '../../src/server/dev-certs.js';
import { claims, makeKey, memoryLogger, sign, writeJwks, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { startServer, type TestServer } from './harness.js';

/**
 * Adversarial isolation of the Qdrant-compatible API (DESIGN §4 payload scopes, `access`,
 * `value_exists`; §6 errors). Two companies share one collection in one Strata tenant, each with a
 * token scoped to its `tenant_id`: neither may see or change the other's points by any route. Every
 * refusal is asserted by status and code, then the stored state is compared, through the operator
 * (mutual TLS), with what it was before.
 */

type Id = number | string;
type Payload = Record<string, unknown>;
interface Pt {
  readonly id: Id;
  readonly payload?: Payload;
  readonly vector?: unknown;
  readonly score?: number;
}
interface Reply {
  readonly status: number;
  readonly body: unknown;
}
/** Who sends a request: the operator (client certificate), or a token, with an optional tenant header. */
interface Who {
  readonly operator?: boolean;
  readonly token?: string;
  /** Send the token as Qdrant's `api-key` header rather than `Authorization: Bearer`. */
  readonly viaApiKey?: boolean;
  /** `x-strata-tenant`, sent verbatim (a list sends the header more than once). */
  readonly tenant?: string | readonly string[];
}

const U5 = '5c56c793-69f3-4fbf-87e6-c4bf54c28c26';
/** The same UUID as U5, written as Qdrant also accepts it. */
const U5_BRACED = '{5C56C793-69F3-4FBF-87E6-C4BF54C28C26}';

type Company = 'acme' | 'globex';
const COMPANIES: readonly [Company, Company][] = [
  ['acme', 'globex'],
  ['globex', 'acme'],
];

/** The shared collection's points: three per company, and four that neither scope holds. */
const FIXTURE: readonly { id: Id; vector: number[]; payload: Payload }[] = [
  { id: 1, vector: [1, 0, 0, 0], payload: { tenant_id: 'acme', title: 'a1', n: 1 } },
  { id: 2, vector: [0.9, 0.1, 0, 0], payload: { tenant_id: 'acme', title: 'a2', n: 2 } },
  { id: 3, vector: [0, 1, 0, 0], payload: { tenant_id: 'acme', title: 'a3', n: 3 } },
  { id: 4, vector: [1, 0, 0, 0], payload: { tenant_id: 'globex', title: 'g4', n: 1 } },
  { id: U5, vector: [0, 0, 1, 0], payload: { tenant_id: 'globex', title: 'g5', n: 2 } },
  { id: 6, vector: [0.5, 0.5, 0, 0], payload: { tenant_id: 'globex', title: 'g6', n: 3 } },
  // Neither company's: an array holding both values, no value, another spelling, a nested field.
  { id: 7, vector: [1, 0, 0, 0], payload: { tenant_id: ['acme', 'globex'], title: 'shared' } },
  { id: 8, vector: [1, 0, 0, 0], payload: { title: 'unowned' } },
  { id: 9, vector: [1, 0, 0, 0], payload: { tenant_id: 'ACME', title: 'case' } },
  { id: 10, vector: [1, 0, 0, 0], payload: { meta: { tenant_id: 'acme' }, title: 'nested' } },
];
/** What each company sees of the fixture: by query [1,0,0,0] in score order. */
const OWN: Readonly<Record<Company, readonly Id[]>> = { acme: [1, 2, 3], globex: [4, 6, U5] };
const ALL_IDS: readonly Id[] = FIXTURE.map(p => p.id);
const VECTOR_QUERY = [1, 0, 0, 0];

const byId = (a: Id, b: Id) => String(a).localeCompare(String(b));
const sorted = (ids: readonly Id[]) => [...ids].sort(byId);
const idsOf = (points: readonly { readonly id: Id }[]) => points.map(p => p.id);

describe('Qdrant API isolation between payload-scoped tokens', () => {
  let certs: DevCertificates;
  let server: TestServer;
  let key: TestKey;
  let removeDir: () => Promise<void>;
  let caPem: Buffer;
  let operatorCert: Buffer;
  let operatorKey: Buffer;
  const now = Math.floor(Date.now() / 1000);
  /** Tokens by name, signed once. */
  const tokens = new Map<string, string>();
  const tok = (name: string): string => {
    const t = tokens.get(name);
    if (t === undefined) throw new TypeError(`no token ${name}`);
    return t;
  };
  const mint = async (name: string, extra: Record<string, unknown>, tenants: readonly string[] = ['saas']) =>
    void tokens.set(name, await sign(key, { ...claims(now, tenants), ...extra }));
  const scoped = (company: Company, collection = 'docs', access = 'rw') => ({ access: [{ collection, access, payload: { tenant_id: company } }] });

  /** One HTTPS request, as `call` in the harness, with the headers these tests need. */
  function send(who: Who, method: string, path: string, body?: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string | string[]> = {};
      if (payload !== undefined) headers['content-type'] = 'application/json';
      if (who.token !== undefined) {
        if (who.viaApiKey === true) headers['api-key'] = who.token;
        else headers['authorization'] = `Bearer ${who.token}`;
      }
      if (who.tenant !== undefined) headers['x-strata-tenant'] = typeof who.tenant === 'string' ? who.tenant : [...who.tenant];
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          method,
          path,
          servername: 'localhost',
          ca: caPem,
          ...(who.operator === true ? { cert: operatorCert, key: operatorKey } : {}),
          agent: false,
          headers,
        },
        res => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', chunk => (text += chunk));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              // Kept as text: the assertion shows it.
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  const op = (tenant = 'saas'): Who => ({ operator: true, tenant });
  const as = (name: string, extra: Omit<Who, 'token'> = {}): Who => ({ token: tok(name), ...extra });

  /** The result of a 200 answer (fails, showing the body, on any other status). */
  function ok<T>(r: Reply): T {
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const b = r.body as { result: T; status: string };
    expect(b.status).toBe('ok');
    return b.result;
  }

  /** Assert a refusal in Qdrant's error shape: status, code, and the message prefix of the status. */
  function refused(r: Reply, status: number, code: string): void {
    expect({ status: r.status, body: r.body }).toMatchObject({ status, body: { status: { code } } });
    const prefix = ({ 401: 'Unauthorized: ', 403: 'Forbidden: ', 404: 'Not found: ', 400: '' } as Record<number, string>)[status] ?? '';
    expect((r.body as { status: { error: string } }).status.error.startsWith(prefix)).toBe(true);
  }

  /** Every point of a collection as the operator sees it, with payloads and vectors, sorted by id. */
  async function state(collection: string, tenant = 'saas'): Promise<Pt[]> {
    const r = ok<{ points: Pt[]; next_page_offset: unknown }>(
      await send(op(tenant), 'POST', `/collections/${collection}/points/scroll`, { limit: 10_000, with_payload: true, with_vector: true }),
    );
    expect(r.next_page_offset ?? null).toBeNull();
    return [...r.points].sort((a, b) => byId(a.id, b.id));
  }

  /** The operator's view of one point (undefined when absent). */
  async function opPoint(collection: string, id: Id): Promise<Pt | undefined> {
    const [p] = ok<Pt[]>(await send(op(), 'POST', `/collections/${collection}/points`, { ids: [id], with_payload: true, with_vector: true }));
    return p;
  }

  async function recreate(tenant: string, collection: string, indexed: boolean, points = FIXTURE, extra: Record<string, unknown> = {}) {
    await send(op(tenant), 'DELETE', `/collections/${collection}`);
    ok(await send(op(tenant), 'PUT', `/collections/${collection}`, { vectors: { size: 4, distance: 'Cosine' }, ...extra }));
    if (indexed) ok(await send(op(tenant), 'PUT', `/collections/${collection}/index?wait=true`, { field_name: 'tenant_id', field_schema: { type: 'keyword', is_tenant: true } }));
    if (points.length > 0) ok(await send(op(tenant), 'PUT', `/collections/${collection}/points?wait=true`, { points }));
  }

  beforeAll(async () => {
    certs = devCertificatePaths(process.env['STRATA_TEST_CERTS_DIR'] as string);
    caPem = readFileSync(certs.caCert);
    operatorCert = readFileSync(certs.operatorCert);
    operatorKey = readFileSync(certs.operatorKey);
    const t = await tempDir('strata-qdrant-isolation');
    removeDir = t.remove;
    key = await makeKey('ES256', 'iso-1');
    const jwks = join(t.dir, 'jwks.json');
    await writeJwks(jwks, [key.publicJwk]);
    server = await startServer(certs, { verifier: new TokenVerifier(await KeySet.load(jwks, { logger: memoryLogger() })) });
    for (const name of ['saas', 'other']) expect((await send({ operator: true }, 'POST', '/v1/admin/tenants', { name })).status).toBe(201);

    for (const c of ['acme', 'globex'] as const) {
      await mint(c, scoped(c));
      await mint(`${c}-plain`, scoped(c, 'plain'));
      await mint(`${c}-r`, scoped(c, 'docs', 'r'));
      await mint(`${c}-sharded`, scoped(c, 'sharded'));
    }
    await mint('full', {});
    await mint('read-only', { access: 'r' });
    await mint('docs-r', { access: [{ collection: 'docs', access: 'r' }] });
    await mint('docs-prw', { access: [{ collection: 'docs', access: 'prw' }] });
    await mint('team', { access: [{ collection: 'team-*', access: 'rw' }] });
    const ve = (user: string) => ({ collection: 'users', matches: [{ key: 'user', value: user }, { key: 'status', value: 'active' }] });
    await mint('acme-u1', { ...scoped('acme'), value_exists: ve('u1') });
    await mint('acme-u2', { ...scoped('acme'), value_exists: ve('u2') });

    // Tenant "other": the same collection name with the same-looking points, and one of its own.
    await recreate('other', 'docs', true);
    await recreate('other', 'other-only', false, [{ id: 1, vector: [1, 0, 0, 0], payload: { tenant_id: 'acme' } }]);
    // Tenant "saas": beside docs and plain (reseeded per test), collections for the access checks.
    for (const name of ['team-a', 'teams']) await recreate('saas', name, false, [{ id: 1, vector: [0, 0, 0, 1], payload: { tenant_id: 'acme', c: name } }]);
    await recreate('saas', 'users', false, [
      { id: 1, vector: [1, 0, 0, 0], payload: { user: 'u1', status: 'active' } },
      { id: 2, vector: [1, 0, 0, 0], payload: { user: 'u2', status: 'active' } },
    ]);
    await recreate('saas', 'sharded', false, [], { sharding_method: 'custom' });
    ok(await send(op(), 'PUT', '/collections/sharded/shards', { shard_key: 'k1' }));
    ok(await send(op(), 'PUT', '/collections/sharded/points', { shard_key: 'k1', points: FIXTURE.slice(0, 6) }));
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await removeDir?.();
  });

  beforeEach(async () => {
    await recreate('saas', 'docs', true);
    await recreate('saas', 'plain', false);
  });

  it('the fixture is what the tests assume (a full token and the operator see all ten points)', async () => {
    expect(ok<{ count: number }>(await send(as('full'), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: 10 });
    expect(idsOf(await state('docs'))).toEqual(sorted(ALL_IDS));
    expect(idsOf(await state('plain'))).toEqual(sorted(ALL_IDS));
  });

  // Reads, for both companies, on an indexed collection (the scope served by the tenant index) and
  // an unindexed one (a scan filtered by the scope).
  for (const collection of ['docs', 'plain'] as const) {
    for (const [me, them] of COMPANIES) {
      describe(`reads: ${me} on ${collection}`, () => {
        const who = () => as(collection === 'docs' ? me : `${me}-plain`);
        const url = (rest: string) => `/collections/${collection}${rest}`;
        const mine = OWN[me];
        const theirs = OWN[them];
        const theirFirst = theirs[0] as Id;
        const onlyMine = (points: readonly Pt[]) => {
          for (const p of points) expect(p.payload?.['tenant_id'], JSON.stringify(p)).toBe(me);
        };

        it('query by vector returns exactly its own points, best first', async () => {
          const r = ok<{ points: Pt[] }>(await send(who(), 'POST', url('/points/query'), { query: VECTOR_QUERY, limit: 100, with_payload: true }));
          expect(idsOf(r.points)).toEqual(mine);
          onlyMine(r.points);
          const nearest = ok<{ points: Pt[] }>(await send(who(), 'POST', url('/points/query'), { query: { nearest: VECTOR_QUERY }, limit: 100 }));
          expect(idsOf(nearest.points)).toEqual(mine);
        });

        it('filters that name the other company, or negate its own, add nothing', async () => {
          const filters = [
            { must: [{ key: 'tenant_id', match: { value: them } }] },
            { should: [{ key: 'tenant_id', match: { value: them } }, { key: 'tenant_id', match: { any: [them, 'ACME'] } }] },
            { must_not: [{ key: 'tenant_id', match: { value: me } }] },
            { must: [{ has_id: [...theirs, 7, 8, 9, 10] }] },
            { must: [{ is_empty: { key: 'tenant_id' } }] },
          ];
          for (const filter of filters) {
            const q = ok<{ points: Pt[] }>(await send(who(), 'POST', url('/points/query'), { query: VECTOR_QUERY, filter, limit: 100 }));
            expect(idsOf(q.points), JSON.stringify(filter)).toEqual([]);
            const s = ok<{ points: Pt[] }>(await send(who(), 'POST', url('/points/scroll'), { filter, limit: 100 }));
            expect(idsOf(s.points), JSON.stringify(filter)).toEqual([]);
            expect(ok(await send(who(), 'POST', url('/points/count'), { filter, exact: true })), JSON.stringify(filter)).toEqual({ count: 0 });
            expect(ok<Pt[]>(await send(who(), 'POST', url('/points/search'), { vector: VECTOR_QUERY, filter, limit: 100 })), JSON.stringify(filter)).toEqual([]);
          }
        });

        it('query by the other company’s point id is 404 (its vector is data), in any id spelling', async () => {
          const spellings: Id[] = me === 'acme' ? [4, 6, U5, U5_BRACED, U5.toUpperCase(), U5.replaceAll('-', '')] : [1, 2, 3];
          for (const id of [...spellings, 7, 8, 9, 10]) {
            refused(await send(who(), 'POST', url('/points/query'), { query: id, limit: 100 }), 404, 'ERR_POINT_NOT_FOUND');
            refused(await send(who(), 'POST', url('/points/query'), { query: { nearest: id }, limit: 100 }), 404, 'ERR_POINT_NOT_FOUND');
          }
          const own = mine[0] as Id;
          const r = ok<{ points: Pt[] }>(await send(who(), 'POST', url('/points/query'), { query: own, limit: 100, with_payload: true }));
          expect(idsOf(r.points)).toEqual(mine.slice(1));
          onlyMine(r.points);
        });

        it('query without a query lists only its own points, and pages within them', async () => {
          const r = ok<{ points: Pt[] }>(await send(who(), 'POST', url('/points/query'), { limit: 100, with_payload: true }));
          expect(sorted(idsOf(r.points))).toEqual(sorted(mine));
          onlyMine(r.points);
          const second = ok<{ points: Pt[] }>(await send(who(), 'POST', url('/points/query'), { limit: 1, offset: 1 }));
          expect(idsOf(second.points)).toEqual([idsOf(r.points)[1]]);
        });

        it('query/batch answers each query within the scope', async () => {
          const r = ok<{ points: Pt[] }[]>(
            await send(who(), 'POST', url('/points/query/batch'), {
              searches: [
                { query: VECTOR_QUERY, limit: 100, with_payload: true },
                { filter: { must: [{ key: 'tenant_id', match: { value: them } }] }, limit: 100 },
                { limit: 100, with_payload: true },
              ],
            }),
          );
          expect(r.map(q => sorted(idsOf(q.points)))).toEqual([sorted(mine), [], sorted(mine)]);
          for (const q of r) onlyMine(q.points.filter(p => p.payload !== undefined));
          refused(await send(who(), 'POST', url('/points/query/batch'), { searches: [{ query: VECTOR_QUERY }, { query: theirFirst }] }), 404, 'ERR_POINT_NOT_FOUND');
        });

        it('search and search/batch return only its own points', async () => {
          const hits = ok<Pt[]>(await send(who(), 'POST', url('/points/search'), { vector: VECTOR_QUERY, limit: 100, with_payload: true }));
          expect(idsOf(hits)).toEqual(mine);
          onlyMine(hits);
          const batch = ok<Pt[][]>(
            await send(who(), 'POST', url('/points/search/batch'), {
              searches: [
                { vector: VECTOR_QUERY, limit: 100 },
                { vector: [0, 0, 1, 0], limit: 100, filter: { must: [{ key: 'tenant_id', match: { value: them } }] } },
                { vector: [0, 0, 1, 0], limit: 1, with_payload: true },
              ],
            }),
          );
          expect(batch.map(idsOf)).toEqual([mine, [], [me === 'acme' ? 1 : U5]]);
          onlyMine(batch[2] ?? []);
        });

        it('scroll returns only its own points, and its page offsets never name another’s point', async () => {
          const all = ok<{ points: Pt[]; next_page_offset: Id | null }>(await send(who(), 'POST', url('/points/scroll'), { limit: 100, with_payload: true, with_vector: true }));
          expect(sorted(idsOf(all.points))).toEqual(sorted(mine));
          expect(all.next_page_offset ?? null).toBeNull();
          onlyMine(all.points);
          const seen: Id[] = [];
          let offset: Id | null = null;
          for (let i = 0; i < 10; i++) {
            const page: { points: Pt[]; next_page_offset: Id | null } = ok(
              await send(who(), 'POST', url('/points/scroll'), { limit: 1, ...(offset === null ? {} : { offset }) }),
            );
            seen.push(...idsOf(page.points));
            offset = page.next_page_offset ?? null;
            if (offset === null) break;
            expect(mine).toContain(offset);
          }
          expect(seen).toEqual(idsOf(all.points));
          // Starting at another's id pages on through its own points only.
          const from = ok<{ points: Pt[] }>(await send(who(), 'POST', url('/points/scroll'), { limit: 100, offset: theirFirst }));
          for (const id of idsOf(from.points)) expect(mine).toContain(id);
        });

        it('count counts only its own points', async () => {
          expect(ok(await send(who(), 'POST', url('/points/count'), {}))).toEqual({ count: 3 });
          expect(ok(await send(who(), 'POST', url('/points/count'), { exact: true }))).toEqual({ count: 3 });
          expect(ok(await send(who(), 'POST', url('/points/count'), { filter: { must: [{ key: 'n', range: { gte: 2 } }] } }))).toEqual({ count: 2 });
        });

        it('retrieve by ids returns only its own points', async () => {
          const r = ok<Pt[]>(await send(who(), 'POST', url('/points'), { ids: [...ALL_IDS, U5_BRACED], with_payload: true, with_vector: true }));
          expect(sorted(idsOf(r))).toEqual(sorted(mine));
          onlyMine(r);
          expect(ok<Pt[]>(await send(who(), 'POST', url('/points'), { ids: [...theirs, 7, 8, 9, 10], with_payload: true }))).toEqual([]);
        });

        it('GET /points/{id} of another’s point is 404; its own is returned', async () => {
          for (const id of [...theirs, 7, 8, 9, 10]) refused(await send(who(), 'GET', url(`/points/${encodeURIComponent(String(id))}`)), 404, 'ERR_POINT_NOT_FOUND');
          const own = ok<Pt>(await send(who(), 'GET', url(`/points/${String(mine[0])}`)));
          expect(own).toMatchObject({ id: mine[0], payload: { tenant_id: me } });
        });

        it('collection info counts only visible points', async () => {
          const info = ok<{ points_count: number; payload_schema: Record<string, { points: number }> }>(await send(who(), 'GET', `/collections/${collection}`));
          expect(info.points_count).toBe(3);
          if (collection === 'docs') expect(info.payload_schema['tenant_id']?.points).toBe(3);
          else expect(info.payload_schema).toEqual({});
        });

        it('sees the same through Qdrant’s own client (token as api-key)', async () => {
          const client = new QdrantClient({ url: `https://localhost:${server.port}`, apiKey: tok(collection === 'docs' ? me : `${me}-plain`), checkCompatibility: false });
          expect(idsOf((await client.query(collection, { query: VECTOR_QUERY, limit: 100 })).points)).toEqual(mine);
          expect(await client.count(collection, {})).toEqual({ count: 3 });
          expect(sorted(idsOf(await client.retrieve(collection, { ids: [...ALL_IDS] })))).toEqual(sorted(mine));
          await expect(client.query(collection, { query: theirFirst })).rejects.toMatchObject({ status: 404, data: { status: { code: 'ERR_POINT_NOT_FOUND' } } });
          await expect(client.upsert(collection, { points: [{ id: 50, vector: [1, 1, 1, 1], payload: { tenant_id: them } }] })).rejects.toMatchObject({
            status: 403,
            data: { status: { code: 'ERR_ACCESS_PAYLOAD_SCOPE' } },
          });
          expect(await opPoint(collection, 50)).toBeUndefined();
        });
      });
    }
  }

  describe('upsert under a payload scope', () => {
    const acme = () => as('acme');

    it('refuses a point carrying the other company’s value (list and batch forms), writing nothing', async () => {
      const before = await state('docs');
      const bodies = [
        { points: [{ id: 20, vector: [1, 1, 0, 0], payload: { tenant_id: 'globex' } }] },
        { points: [{ id: 20, vector: [1, 1, 0, 0], payload: { tenant_id: ['acme'] } }] },
        { points: [{ id: 20, vector: [1, 1, 0, 0], payload: { tenant_id: 'ACME' } }] },
        { points: [{ id: 20, vector: [1, 1, 0, 0], payload: { tenant_id: null } }] },
        // One good point and one bad: all or nothing.
        { points: [{ id: 21, vector: [1, 1, 0, 0], payload: { tenant_id: 'acme' } }, { id: 20, vector: [1, 1, 0, 0], payload: { tenant_id: 'globex' } }] },
        { batch: { ids: [21, 20], vectors: [[1, 1, 0, 0], [1, 1, 0, 0]], payloads: [{}, { tenant_id: 'globex' }] } },
      ];
      for (const body of bodies) refused(await send(acme(), 'PUT', '/collections/docs/points?wait=true', body), 403, 'ERR_ACCESS_PAYLOAD_SCOPE');
      expect(await state('docs')).toEqual(before);
    });

    it('fills in its own value when tenant_id is missing, and the other company cannot see the point', async () => {
      ok(await send(acme(), 'PUT', '/collections/docs/points?wait=true', { points: [{ id: 20, vector: [0, 0, 0, 1], payload: { title: 'new' } }, { id: 21, vector: [0, 0, 0, 1] }] }));
      ok(await send(acme(), 'PUT', '/collections/docs/points?wait=true', { batch: { ids: [22], vectors: [[0, 0, 0, 1]] } }));
      expect((await opPoint('docs', 20))?.payload).toEqual({ tenant_id: 'acme', title: 'new' });
      expect((await opPoint('docs', 21))?.payload).toEqual({ tenant_id: 'acme' });
      expect((await opPoint('docs', 22))?.payload).toEqual({ tenant_id: 'acme' });
      expect(ok<Pt[]>(await send(as('globex'), 'POST', '/collections/docs/points', { ids: [20, 21, 22] }))).toEqual([]);
      expect(ok(await send(as('globex'), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: 3 });
    });

    it('refuses to overwrite an id held by the other company’s point (or any point outside its scope); that point is unchanged', async () => {
      const before = await state('docs');
      for (const id of [4, 6, U5, U5_BRACED, U5.replaceAll('-', ''), 7, 8, 9, 10]) {
        for (const payload of [{ tenant_id: 'acme', title: 'taken' }, {}, undefined]) {
          const point = { id, vector: [0, 0, 0, 1], ...(payload === undefined ? {} : { payload }) };
          refused(await send(acme(), 'PUT', '/collections/docs/points?wait=true', { points: [point] }), 403, 'ERR_ACCESS_PAYLOAD_SCOPE');
        }
        refused(await send(acme(), 'PUT', '/collections/docs/points?wait=true', { batch: { ids: [id], vectors: [[0, 0, 0, 1]] } }), 403, 'ERR_ACCESS_PAYLOAD_SCOPE');
      }
      // With one of its own ids in the same request: nothing written, its own point unchanged too.
      refused(
        await send(acme(), 'PUT', '/collections/docs/points?wait=true', { points: [{ id: 1, vector: [0, 0, 0, 1], payload: { title: 'mine' } }, { id: 4, vector: [0, 0, 0, 1] }] }),
        403,
        'ERR_ACCESS_PAYLOAD_SCOPE',
      );
      expect(await state('docs')).toEqual(before);
    });

    it('replaces its own point, keeping it in scope', async () => {
      ok(await send(acme(), 'PUT', '/collections/docs/points?wait=true', { points: [{ id: 1, vector: [0, 0, 0, 1], payload: { title: 'replaced' } }] }));
      expect((await opPoint('docs', 1))?.payload).toEqual({ tenant_id: 'acme', title: 'replaced' });
    });
  });

  describe('delete under a payload scope', () => {
    const acme = () => as('acme');

    it('by id deletes only its own points', async () => {
      ok(await send(acme(), 'POST', '/collections/docs/points/delete?wait=true', { points: [1, 4, 6, U5, U5_BRACED, 7, 8, 9, 10] }));
      expect(idsOf(await state('docs'))).toEqual(sorted(ALL_IDS.filter(id => id !== 1)));
      const before = await state('docs');
      ok(await send(acme(), 'POST', '/collections/docs/points/delete?wait=true', { points: [4, U5] }));
      expect(await state('docs')).toEqual(before);
    });

    it('by filter deletes only its own points; a filter naming the other company deletes nothing', async () => {
      const before = await state('docs');
      for (const filter of [
        { must: [{ key: 'tenant_id', match: { value: 'globex' } }] },
        { must_not: [{ key: 'tenant_id', match: { value: 'acme' } }] },
        { must: [{ has_id: [4, 6, U5, 7, 8, 9, 10] }] },
        { must: [{ is_empty: { key: 'tenant_id' } }] },
        { should: [{ key: 'title', match: { any: ['g4', 'g5', 'g6', 'shared', 'unowned', 'case', 'nested'] } }] },
      ]) {
        ok(await send(acme(), 'POST', '/collections/docs/points/delete?wait=true', { filter }));
        expect(await state('docs'), JSON.stringify(filter)).toEqual(before);
      }
      ok(await send(acme(), 'POST', '/collections/docs/points/delete?wait=true', { filter: { must: [{ key: 'n', range: { gte: 1 } }] } }));
      expect(idsOf(await state('docs'))).toEqual(sorted([4, U5, 6, 7, 8, 9, 10]));
      expect(await state('docs')).toEqual(before.filter(p => ![1, 2, 3].includes(p.id as number)));
    });
  });

  describe('payload updates under a payload scope', () => {
    const acme = () => as('acme');
    const others: readonly Id[] = [4, U5_BRACED, 6, 7, 8, 9, 10];

    it('set and overwrite on the other company’s ids are 404 (or no-ops) and change nothing', async () => {
      const before = await state('docs');
      for (const [method, path] of [
        ['POST', '/points/payload'],
        ['PUT', '/points/payload'],
      ] as const) {
        for (const points of [[4], [U5_BRACED], [8], [1, 4]]) {
          const r = await send(acme(), method, `/collections/docs${path}?wait=true`, { payload: { title: 'pwned', tenant_id: 'acme' }, points });
          if (r.status !== 200) refused(r, 404, 'ERR_POINT_NOT_FOUND');
          else expect(points).not.toContain(1); // a 200 for a mixed list would have changed point 1
          const after = await state('docs');
          expect(after.filter(p => p.id !== 1), `${method} ${path} ${JSON.stringify(points)}`).toEqual(before.filter(p => p.id !== 1));
        }
      }
      // The refused mixed requests left its own point alone too.
      expect(await state('docs')).toEqual(before);
    });

    it('delete-keys and clear on the other company’s ids or filters change nothing', async () => {
      const before = await state('docs');
      const selectors = [{ points: others }, { filter: { must: [{ key: 'tenant_id', match: { value: 'globex' } }] } }, { filter: { must_not: [{ key: 'tenant_id', match: { value: 'acme' } }] } }];
      for (const selector of selectors) {
        for (const keys of [['title'], ['tenant_id'], ['n', 'meta']]) {
          const r = await send(acme(), 'POST', '/collections/docs/points/payload/delete?wait=true', { keys, ...selector });
          if (r.status !== 200) refused(r, 404, 'ERR_POINT_NOT_FOUND');
          expect(await state('docs'), `delete ${JSON.stringify(keys)} ${JSON.stringify(selector)}`).toEqual(before);
        }
        const r = await send(acme(), 'POST', '/collections/docs/points/payload/clear?wait=true', selector);
        if (r.status !== 200) refused(r, 404, 'ERR_POINT_NOT_FOUND');
        expect(await state('docs'), `clear ${JSON.stringify(selector)}`).toEqual(before);
        for (const [method, path] of [
          ['POST', '/points/payload'],
          ['PUT', '/points/payload'],
        ] as const) {
          if ('points' in selector) continue;
          ok(await send(acme(), method, `/collections/docs${path}?wait=true`, { payload: { title: 'pwned' }, ...selector }));
          expect(await state('docs'), `${method} ${JSON.stringify(selector)}`).toEqual(before);
        }
      }
    });

    it('refuses to change or remove tenant_id on its own points, writing nothing', async () => {
      const before = await state('docs');
      const attempts: [string, string, Record<string, unknown>][] = [
        ['POST', '/points/payload', { payload: { tenant_id: 'globex' }, points: [1] }],
        ['POST', '/points/payload', { payload: { tenant_id: null }, points: [1] }],
        ['POST', '/points/payload', { payload: { tenant_id: ['acme', 'globex'] }, points: [1] }],
        ['POST', '/points/payload', { payload: { title: 'ok', tenant_id: 'globex' }, points: [1, 2, 3] }],
        ['POST', '/points/payload', { payload: { tenant_id: 'globex' }, filter: { must: [{ key: 'n', range: { gte: 1 } }] } }],
        ['PUT', '/points/payload', { payload: { tenant_id: 'globex', title: 'moved' }, points: [1] }],
        ['PUT', '/points/payload', { payload: { tenant_id: 'ACME' }, points: [2, 3] }],
        ['PUT', '/points/payload', { payload: { tenant_id: 'globex' }, filter: { must: [{ key: 'title', match: { value: 'a1' } }] } }],
        ['POST', '/points/payload/delete', { keys: ['tenant_id'], points: [1] }],
        ['POST', '/points/payload/delete', { keys: ['title', 'tenant_id'], points: [1, 2] }],
        ['POST', '/points/payload/delete', { keys: ['tenant_id'], filter: { must: [{ key: 'n', range: { gte: 1 } }] } }],
      ];
      for (const [method, path, body] of attempts) {
        refused(await send(acme(), method, `/collections/docs${path}?wait=true`, body), 403, 'ERR_ACCESS_PAYLOAD_SCOPE');
        expect(await state('docs'), `${method} ${path} ${JSON.stringify(body)}`).toEqual(before);
      }
      // The other company can neither see nor count a point moved its way.
      expect(ok(await send(as('globex'), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: 3 });
    });

    it('set, overwrite, delete-keys and clear work on its own points and keep tenant_id', async () => {
      ok(await send(acme(), 'POST', '/collections/docs/points/payload?wait=true', { payload: { reviewed: true, tenant_id: 'acme' }, points: [1] }));
      expect((await opPoint('docs', 1))?.payload).toEqual({ tenant_id: 'acme', title: 'a1', n: 1, reviewed: true });
      ok(await send(acme(), 'PUT', '/collections/docs/points/payload?wait=true', { payload: { title: 'only' }, points: [2] }));
      expect((await opPoint('docs', 2))?.payload).toEqual({ tenant_id: 'acme', title: 'only' });
      ok(await send(acme(), 'POST', '/collections/docs/points/payload/delete?wait=true', { keys: ['title', 'n'], points: [1] }));
      expect((await opPoint('docs', 1))?.payload).toEqual({ tenant_id: 'acme', reviewed: true });
      ok(await send(acme(), 'POST', '/collections/docs/points/payload/clear?wait=true', { points: [3] }));
      expect((await opPoint('docs', 3))?.payload).toEqual({ tenant_id: 'acme' });
      // Clear by an all-matching filter reaches only its own points, and keeps tenant_id.
      ok(await send(acme(), 'POST', '/collections/docs/points/payload/clear?wait=true', { filter: { must: [] } }));
      const after = await state('docs');
      expect(after.filter(p => [1, 2, 3].includes(p.id as number)).map(p => p.payload)).toEqual([{ tenant_id: 'acme' }, { tenant_id: 'acme' }, { tenant_id: 'acme' }]);
      const untouched = FIXTURE.filter(p => ![1, 2, 3].includes(p.id as number));
      expect(after.filter(p => ![1, 2, 3].includes(p.id as number)).map(p => [p.id, p.payload])).toEqual(
        untouched.map(p => [p.id, p.payload]).sort((a, b) => byId(a[0] as Id, b[0] as Id)),
      );
    });
  });

  describe('vector updates under a payload scope', () => {
    const acme = () => as('acme');

    it('update vectors on the other company’s point is 404 and changes nothing', async () => {
      const before = await state('docs');
      for (const points of [[{ id: 4, vector: [0, 0, 0, 1] }], [{ id: U5_BRACED, vector: [0, 0, 0, 1] }], [{ id: 8, vector: [0, 0, 0, 1] }], [{ id: 1, vector: [0, 0, 0, 1] }, { id: 4, vector: [0, 0, 0, 1] }]]) {
        refused(await send(acme(), 'PUT', '/collections/docs/points/vectors?wait=true', { points }), 404, 'ERR_POINT_NOT_FOUND');
        expect(await state('docs'), JSON.stringify(points)).toEqual(before);
      }
      // Its own point's vector does change (so the refusals above are the scope's doing).
      ok(await send(acme(), 'PUT', '/collections/docs/points/vectors?wait=true', { points: [{ id: 1, vector: [0, 0, 0, 2] }] }));
      expect((await opPoint('docs', 1))?.vector).toEqual([0, 0, 0, 1]);
    });

    it('delete vectors reaches only its own points', async () => {
      const before = await state('docs');
      for (const selector of [{ points: [4, U5, 6, 7, 8, 9, 10] }, { filter: { must: [{ key: 'tenant_id', match: { value: 'globex' } }] } }, { filter: { must_not: [{ key: 'tenant_id', match: { value: 'acme' } }] } }]) {
        const r = await send(acme(), 'POST', '/collections/docs/points/vectors/delete?wait=true', { vector: [''], ...selector });
        if (r.status !== 200) refused(r, 404, 'ERR_POINT_NOT_FOUND');
        expect(await state('docs'), JSON.stringify(selector)).toEqual(before);
      }
      ok(await send(acme(), 'POST', '/collections/docs/points/vectors/delete?wait=true', { vector: [''], points: [1, 4] }));
      const after = await state('docs');
      expect(after.find(p => p.id === 1)?.vector ?? {}).toEqual({});
      expect(after.filter(p => p.id !== 1)).toEqual(before.filter(p => p.id !== 1));
    });
  });

  describe('collection-level operations with a payload-scoped token', () => {
    it('create, update and delete collection, payload indexes and shard keys are 403 and change nothing', async () => {
      const schemaBefore = ok<{ payload_schema: unknown }>(await send(op(), 'GET', '/collections/docs')).payload_schema;
      const attempts: [string, string, unknown, string][] = [
        ['PUT', '/collections/docs', { vectors: { size: 4, distance: 'Cosine' } }, 'ERR_ACCESS_MANAGE_REQUIRED'],
        ['PUT', '/collections/acme-new', { vectors: { size: 4, distance: 'Cosine' } }, 'ERR_ACCESS_MANAGE_REQUIRED'],
        ['PATCH', '/collections/docs', { optimizers_config: { indexing_threshold: 1 } }, 'ERR_ACCESS_MANAGE_REQUIRED'],
        ['DELETE', '/collections/docs', undefined, 'ERR_ACCESS_MANAGE_REQUIRED'],
        ['PUT', '/collections/docs/index?wait=true', { field_name: 'title', field_schema: 'keyword' }, 'ERR_ACCESS_MANAGE_REQUIRED'],
        ['DELETE', '/collections/docs/index/tenant_id?wait=true', undefined, 'ERR_ACCESS_MANAGE_REQUIRED'],
      ];
      for (const [method, path, body, code] of attempts) refused(await send(as('acme'), method, path, body), 403, code);
      expect(ok(await send(op(), 'GET', '/collections/acme-new/exists'))).toEqual({ exists: false });
      expect(ok<{ payload_schema: unknown }>(await send(op(), 'GET', '/collections/docs')).payload_schema).toEqual(schemaBefore);
      expect(idsOf(await state('docs'))).toEqual(sorted(ALL_IDS));
    });

    it('shard keys cannot be added or deleted (deleting one would delete the other company’s points)', async () => {
      const before = await state('sharded');
      expect(before).toHaveLength(6);
      refused(await send(as('acme-sharded'), 'PUT', '/collections/sharded/shards', { shard_key: 'k2' }), 403, 'ERR_ACCESS_MANAGE_REQUIRED');
      refused(await send(as('acme-sharded'), 'POST', '/collections/sharded/shards/delete', { shard_key: 'k1' }), 403, 'ERR_ACCESS_MANAGE_REQUIRED');
      expect(ok(await send(op(), 'GET', '/collections/sharded/shards'))).toEqual({ shard_keys: [{ key: 'k1' }] });
      expect(await state('sharded')).toEqual(before);
      // Writes into the shard are scoped as anywhere else.
      refused(await send(as('acme-sharded'), 'PUT', '/collections/sharded/points?wait=true', { shard_key: 'k1', points: [{ id: 4, vector: [0, 0, 0, 1], payload: { tenant_id: 'acme' } }] }), 403, 'ERR_ACCESS_PAYLOAD_SCOPE');
      refused(await send(as('acme-sharded'), 'PUT', '/collections/sharded/points?wait=true', { shard_key: 'k1', points: [{ id: 30, vector: [0, 0, 0, 1], payload: { tenant_id: 'globex' } }] }), 403, 'ERR_ACCESS_PAYLOAD_SCOPE');
      ok(await send(as('acme-sharded'), 'POST', '/collections/sharded/points/delete?wait=true', { shard_key: 'k1', filter: { must: [{ key: 'tenant_id', match: { value: 'globex' } }] } }));
      expect(await state('sharded')).toEqual(before);
      // Reads in the sharded collection are scoped too.
      expect(ok(await send(as('acme-sharded'), 'POST', '/collections/sharded/points/count', {}))).toEqual({ count: 3 });
    });
  });

  describe('read-only tokens', () => {
    const writes = (): [string, string, unknown][] => [
      ['PUT', '/collections/docs/points?wait=true', { points: [{ id: 30, vector: [1, 0, 0, 0], payload: { tenant_id: 'acme' } }] }],
      ['PUT', '/collections/docs/points?wait=true', { points: [{ id: 1, vector: [0, 0, 0, 1], payload: { tenant_id: 'acme' } }] }],
      ['POST', '/collections/docs/points/delete?wait=true', { points: [1, 4] }],
      ['POST', '/collections/docs/points/delete?wait=true', { filter: { must: [] } }],
      ['POST', '/collections/docs/points/payload?wait=true', { payload: { x: 1 }, points: [1] }],
      ['PUT', '/collections/docs/points/payload?wait=true', { payload: { tenant_id: 'acme' }, points: [1] }],
      ['POST', '/collections/docs/points/payload/delete?wait=true', { keys: ['title'], points: [1] }],
      ['POST', '/collections/docs/points/payload/clear?wait=true', { points: [1] }],
      ['PUT', '/collections/docs/points/vectors?wait=true', { points: [{ id: 1, vector: [0, 0, 0, 1] }] }],
      ['POST', '/collections/docs/points/vectors/delete?wait=true', { vector: [''], points: [1] }],
      ['PUT', '/collections/docs/index?wait=true', { field_name: 'title', field_schema: 'keyword' }],
      ['DELETE', '/collections/docs/index/tenant_id?wait=true', undefined],
    ];

    for (const [name, visibleCount] of [
      ['read-only', 10],
      ['docs-r', 10],
      ['acme-r', 3],
    ] as const) {
      it(`${name}: every write is 403 and nothing is written; reads work`, async () => {
        const before = await state('docs');
        const schemaBefore = ok<{ payload_schema: unknown }>(await send(op(), 'GET', '/collections/docs')).payload_schema;
        for (const [method, path, body] of writes()) {
          const r = await send(as(name), method, path, body);
          const code = name !== 'read-only' && path.includes('/index') ? ['ERR_ACCESS_READ_ONLY', 'ERR_ACCESS_MANAGE_REQUIRED'] : ['ERR_ACCESS_READ_ONLY'];
          expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(403);
          expect(code, `${method} ${path}`).toContain((r.body as { status: { code: string } }).status.code);
          expect(await state('docs'), `${method} ${path}`).toEqual(before);
        }
        for (const [method, path, body] of [
          ['PUT', '/collections/docs', { vectors: { size: 4, distance: 'Cosine' } }],
          ['DELETE', '/collections/docs', undefined],
          ['PUT', '/collections/ro-new', { vectors: { size: 4, distance: 'Cosine' } }],
        ] as const) {
          refused(await send(as(name), method, path, body), 403, 'ERR_ACCESS_MANAGE_REQUIRED');
        }
        expect(ok(await send(op(), 'GET', '/collections/ro-new/exists'))).toEqual({ exists: false });
        expect(ok<{ payload_schema: unknown }>(await send(op(), 'GET', '/collections/docs')).payload_schema).toEqual(schemaBefore);
        expect(await state('docs')).toEqual(before);
        expect(ok(await send(as(name), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: visibleCount });
      });
    }
  });

  describe('collection access lists', () => {
    it('a token for docs is refused on any other collection, for reads and writes', async () => {
      const plainBefore = await state('plain');
      for (const collection of ['plain', 'users', 'team-a', 'docs2', 'doc', 'Docs', 'docs*']) {
        const path = `/collections/${encodeURIComponent(collection)}`;
        refused(await send(as('acme'), 'POST', `${path}/points/count`, {}), 403, 'ERR_ACCESS_COLLECTION_DENIED');
        refused(await send(as('acme'), 'POST', `${path}/points/scroll`, {}), 403, 'ERR_ACCESS_COLLECTION_DENIED');
        refused(await send(as('acme'), 'GET', path), 403, 'ERR_ACCESS_COLLECTION_DENIED');
        refused(await send(as('acme'), 'PUT', `${path}/points?wait=true`, { points: [{ id: 40, vector: [1, 0, 0, 0] }] }), 403, 'ERR_ACCESS_COLLECTION_DENIED');
        refused(await send(as('acme'), 'POST', `${path}/points/delete?wait=true`, { points: [1, 2, 3, 4] }), 403, 'ERR_ACCESS_COLLECTION_DENIED');
      }
      expect(await state('plain')).toEqual(plainBefore);
      // The users collection (holding value_exists records) is out of reach too.
      expect((await opPoint('users', 1))?.payload).toEqual({ user: 'u1', status: 'active' });
    });

    it('a team-* pattern reaches team-a, not teams or docs', async () => {
      expect(ok(await send(as('team'), 'POST', '/collections/team-a/points/count', {}))).toEqual({ count: 1 });
      ok(await send(as('team'), 'PUT', '/collections/team-a/points?wait=true', { points: [{ id: 2, vector: [1, 0, 0, 0], payload: { by: 'team' } }] }));
      expect((await opPoint('team-a', 2))?.payload).toEqual({ by: 'team' });
      ok(await send(as('team'), 'POST', '/collections/team-a/points/delete?wait=true', { points: [2] }));
      const teamsBefore = await state('teams');
      const docsBefore = await state('docs');
      for (const collection of ['teams', 'docs', 'team', 'tea']) {
        refused(await send(as('team'), 'POST', `/collections/${collection}/points/count`, {}), 403, 'ERR_ACCESS_COLLECTION_DENIED');
        refused(await send(as('team'), 'PUT', `/collections/${collection}/points?wait=true`, { points: [{ id: 2, vector: [1, 0, 0, 0] }] }), 403, 'ERR_ACCESS_COLLECTION_DENIED');
        refused(await send(as('team'), 'POST', `/collections/${collection}/points/delete?wait=true`, { filter: { must: [] } }), 403, 'ERR_ACCESS_COLLECTION_DENIED');
      }
      expect(await state('teams')).toEqual(teamsBefore);
      expect(await state('docs')).toEqual(docsBefore);
      // A pattern grants points access, never management.
      refused(await send(as('team'), 'PUT', '/collections/team-b', { vectors: { size: 4, distance: 'Cosine' } }), 403, 'ERR_ACCESS_MANAGE_REQUIRED');
      refused(await send(as('team'), 'DELETE', '/collections/team-a'), 403, 'ERR_ACCESS_MANAGE_REQUIRED');
      expect(ok(await send(op(), 'GET', '/collections/team-b/exists'))).toEqual({ exists: false });
      expect(ok(await send(op(), 'GET', '/collections/team-a/exists'))).toEqual({ exists: true });
      const listed = ok<{ collections: { name: string }[] }>(await send(as('team'), 'GET', '/collections'));
      expect(listed.collections.map(c => c.name)).toEqual(['team-a']);
    });

    it('prw: point writes are allowed, payload indexes and collection management are refused', async () => {
      ok(await send(as('docs-prw'), 'PUT', '/collections/docs/points?wait=true', { points: [{ id: 40, vector: [1, 0, 0, 0], payload: { tenant_id: 'x' } }] }));
      expect((await opPoint('docs', 40))?.payload).toEqual({ tenant_id: 'x' });
      ok(await send(as('docs-prw'), 'POST', '/collections/docs/points/delete?wait=true', { points: [40] }));
      expect(await opPoint('docs', 40)).toBeUndefined();
      const schemaBefore = ok<{ payload_schema: unknown }>(await send(op(), 'GET', '/collections/docs')).payload_schema;
      refused(await send(as('docs-prw'), 'PUT', '/collections/docs/index?wait=true', { field_name: 'title', field_schema: 'keyword' }), 403, 'ERR_ACCESS_MANAGE_REQUIRED');
      refused(await send(as('docs-prw'), 'DELETE', '/collections/docs/index/tenant_id?wait=true'), 403, 'ERR_ACCESS_MANAGE_REQUIRED');
      refused(await send(as('docs-prw'), 'DELETE', '/collections/docs'), 403, 'ERR_ACCESS_MANAGE_REQUIRED');
      expect(ok<{ payload_schema: unknown }>(await send(op(), 'GET', '/collections/docs')).payload_schema).toEqual(schemaBefore);
      expect(idsOf(await state('docs'))).toEqual(sorted(ALL_IDS));
    });

    it('GET /collections lists only the collections the token names', async () => {
      const listed = ok<{ collections: { name: string }[] }>(await send(as('acme'), 'GET', '/collections'));
      expect(listed.collections.map(c => c.name)).toEqual(['docs']);
    });
  });

  describe('other Strata tenants', () => {
    const otherRoutes = (): [string, string, unknown][] => [
      ['GET', '/collections', undefined],
      ['GET', '/collections/docs', undefined],
      ['GET', '/collections/other-only/exists', undefined],
      ['POST', '/collections/docs/points/count', {}],
      ['POST', '/collections/docs/points/scroll', { limit: 100 }],
      ['POST', '/collections/docs/points/query', { query: [1, 0, 0, 0] }],
      ['POST', '/collections/docs/points', { ids: [1, 2, 3] }],
      ['GET', '/collections/docs/points/1', undefined],
      ['PUT', '/collections/docs/points?wait=true', { points: [{ id: 1, vector: [0, 0, 0, 1], payload: { tenant_id: 'acme', title: 'cross' } }] }],
      ['POST', '/collections/docs/points/delete?wait=true', { points: [1, 2, 3] }],
      ['POST', '/collections/docs/points/payload?wait=true', { payload: { title: 'cross' }, points: [1] }],
      ['PUT', '/collections/other-new', { vectors: { size: 4, distance: 'Cosine' } }],
      ['DELETE', '/collections/other-only', undefined],
    ];

    it('a saas token naming tenant other (plainly or percent-encoded) is 403 ERR_AUTH_TENANT_FORBIDDEN and changes nothing there', async () => {
      const before = await state('docs', 'other');
      const onlyBefore = await state('other-only', 'other');
      const headers = ['other', '%6Fther', '%6f%74%68%65%72', 'OTHER', 'saas/../other', 'saas%2F..%2Fother', 'saas, other', '%D0%BEther', 'saas%20', '%20saas'];
      for (const name of ['acme', 'full']) {
        for (const tenant of headers) {
          for (const [method, path, body] of otherRoutes()) {
            refused(await send(as(name, { tenant }), method, path, body), 403, 'ERR_AUTH_TENANT_FORBIDDEN');
          }
        }
        // The header twice: Node joins the values ("saas, other"), which names no tenant of the token.
        refused(await send(as(name, { tenant: ['saas', 'other'] }), 'POST', '/collections/docs/points/count', {}), 403, 'ERR_AUTH_TENANT_FORBIDDEN');
        refused(await send(as(name, { tenant: ['other', 'saas'] }), 'POST', '/collections/docs/points/count', {}), 403, 'ERR_AUTH_TENANT_FORBIDDEN');
      }
      expect(await state('docs', 'other')).toEqual(before);
      expect(await state('other-only', 'other')).toEqual(onlyBefore);
      expect(ok(await send(op('other'), 'GET', '/collections/other-new/exists'))).toEqual({ exists: false });
    });

    it('malformed percent-encoding and control characters in the header are 400, never another tenant', async () => {
      for (const tenant of ['%', '%E0%A4%A', '%ZZ', 'other%00', 'saas%00', '%0Aother', 'saas%C0%AF']) {
        const r = await send(as('acme', { tenant }), 'POST', '/collections/docs/points/count', {});
        expect([400, 403], `${tenant}: ${JSON.stringify(r.body)}`).toContain(r.status);
        expect(['ERR_TENANT_NAME_INVALID', 'ERR_AUTH_TENANT_FORBIDDEN'], tenant).toContain((r.body as { status: { code: string } }).status.code);
      }
      const before = await state('docs', 'other');
      refused(await send(as('acme', { tenant: 'other%00' }), 'PUT', '/collections/docs/points?wait=true', { points: [{ id: 1, vector: [0, 0, 0, 1] }] }), 400, 'ERR_TENANT_NAME_INVALID');
      expect(await state('docs', 'other')).toEqual(before);
    });

    it('its own tenant percent-encoded is its own tenant, still scoped', async () => {
      expect(ok(await send(as('acme', { tenant: 'sa%61s' }), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: 3 });
      expect(ok(await send(as('acme', { tenant: 'saas' }), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: 3 });
      expect(ok(await send(as('acme', { viaApiKey: true }), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: 3 });
    });

    it('GET /collections lists only the caller’s tenant', async () => {
      const listed = ok<{ collections: { name: string }[] }>(await send(as('full'), 'GET', '/collections'));
      const names = listed.collections.map(c => c.name).sort();
      expect(names).not.toContain('other-only');
      expect(names).toEqual(expect.arrayContaining(['docs', 'plain', 'sharded', 'team-a', 'teams', 'users']));
      const inOther = ok<{ collections: { name: string }[] }>(await send(op('other'), 'GET', '/collections'));
      expect(inOther.collections.map(c => c.name).sort()).toEqual(['docs', 'other-only']);
      refused(await send(as('full'), 'GET', '/collections/other-only'), 404, 'ERR_COLLECTION_NOT_FOUND');
      expect(ok(await send(as('full'), 'GET', '/collections/other-only/exists'))).toEqual({ exists: false });
    });
  });

  describe('the native key-value API', () => {
    const everything = { begin: 'AA==', end: '/w==' };
    const nativeCode = (r: Reply) => (r.body as { error?: { code?: string } }).error?.code;

    it('refuses tokens limited by an access list (raw keys would bypass collections and payload scopes)', async () => {
      const before = await state('docs');
      for (const name of ['acme', 'acme-r', 'docs-prw', 'docs-r', 'team', 'acme-u2']) {
        for (const ops of [[{ op: 'getRange', ...everything }], [{ op: 'clearRange', ...everything }], [{ op: 'set', key: 'AA==', value: 'AA==' }]]) {
          const r = await send(as(name), 'POST', '/v1/tenants/saas/transact', { ops });
          expect({ status: r.status, code: nativeCode(r) }, `${name} ${JSON.stringify(ops)}`).toEqual({ status: 403, code: 'ERR_ACCESS_COLLECTION_SCOPED' });
        }
      }
      expect(await state('docs')).toEqual(before);
    });

    it('an access "r" token cannot write through it', async () => {
      const before = await state('docs');
      const r = await send(as('read-only'), 'POST', '/v1/tenants/saas/transact', { ops: [{ op: 'clearRange', ...everything }] });
      expect({ status: r.status, code: nativeCode(r) }).toEqual({ status: 403, code: 'ERR_ACCESS_READ_ONLY' });
      expect(await state('docs')).toEqual(before);
    });
  });

  describe('value_exists', () => {
    const setStatus = async (status: string) =>
      ok(await send(as('full'), 'POST', '/collections/users/points/payload?wait=true', { payload: { status }, points: [1] }));
    afterAll(async () => {
      await send(op(), 'PUT', '/collections/users/points?wait=true', { points: [{ id: 1, vector: [1, 0, 0, 0], payload: { user: 'u1', status: 'active' } }] });
    });

    it('holds while the user is active and is refused on the very next request once the status flips', async () => {
      expect(ok(await send(as('acme-u1'), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: 3 });
      ok(await send(as('acme-u1'), 'PUT', '/collections/docs/points?wait=true', { points: [{ id: 50, vector: [1, 0, 0, 0] }] }));
      expect((await opPoint('docs', 50))?.payload).toEqual({ tenant_id: 'acme' });
      // The scope still applies to a value_exists token.
      refused(await send(as('acme-u1'), 'POST', '/collections/docs/points/query', { query: 4 }), 404, 'ERR_POINT_NOT_FOUND');

      await setStatus('disabled');
      const before = await state('docs');
      refused(await send(as('acme-u1'), 'POST', '/collections/docs/points/count', {}), 401, 'ERR_AUTH_TOKEN_REVOKED');
      refused(await send(as('acme-u1', { viaApiKey: true }), 'POST', '/collections/docs/points/scroll', {}), 401, 'ERR_AUTH_TOKEN_REVOKED');
      refused(await send(as('acme-u1'), 'GET', '/collections'), 401, 'ERR_AUTH_TOKEN_REVOKED');
      refused(await send(as('acme-u1'), 'PUT', '/collections/docs/points?wait=true', { points: [{ id: 51, vector: [1, 0, 0, 0] }] }), 401, 'ERR_AUTH_TOKEN_REVOKED');
      refused(await send(as('acme-u1'), 'POST', '/collections/docs/points/delete?wait=true', { points: [1, 2, 3, 50] }), 401, 'ERR_AUTH_TOKEN_REVOKED');
      refused(await send(as('acme-u1'), 'POST', '/collections/docs/points/payload?wait=true', { payload: { x: 1 }, points: [1] }), 401, 'ERR_AUTH_TOKEN_REVOKED');
      expect(await state('docs')).toEqual(before);
      // Another user's token is unaffected.
      expect(ok(await send(as('acme-u2'), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: 4 });

      // Qdrant's semantics: the token holds again once the condition does.
      await setStatus('active');
      expect(ok(await send(as('acme-u1'), 'POST', '/collections/docs/points/count', {}))).toEqual({ count: 4 });
      // Deleting the user's point revokes it too.
      ok(await send(as('full'), 'POST', '/collections/users/points/delete?wait=true', { points: [1] }));
      refused(await send(as('acme-u1'), 'POST', '/collections/docs/points/count', {}), 401, 'ERR_AUTH_TOKEN_REVOKED');
    });

    it('the scoped holder cannot reach the users collection to keep itself alive', async () => {
      await send(op(), 'PUT', '/collections/users/points?wait=true', { points: [{ id: 1, vector: [1, 0, 0, 0], payload: { user: 'u1', status: 'disabled' } }] });
      refused(await send(as('acme-u2'), 'POST', '/collections/users/points/payload?wait=true', { payload: { status: 'active' }, points: [1] }), 403, 'ERR_ACCESS_COLLECTION_DENIED');
      refused(await send(as('acme-u2'), 'PUT', '/collections/users/points?wait=true', { points: [{ id: 3, vector: [1, 0, 0, 0], payload: { user: 'u1', status: 'active' } }] }), 403, 'ERR_ACCESS_COLLECTION_DENIED');
      expect(await state('users')).toEqual([
        { id: 1, payload: { user: 'u1', status: 'disabled' }, vector: [1, 0, 0, 0] },
        { id: 2, payload: { user: 'u2', status: 'active' }, vector: [1, 0, 0, 0] },
      ]);
      refused(await send(as('acme-u1'), 'POST', '/collections/docs/points/count', {}), 401, 'ERR_AUTH_TOKEN_REVOKED');
    });
  });
});
