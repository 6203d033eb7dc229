import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { NativeClient } from '../src/client/native-client.js';
import { generateDevCertificates } from '../src/server/dev-certs.js';
import { listeningUrl } from './server.js';

/**
 * What limits cost a request: one server, two tenants with the same collection and points. In
 * `limited`, everything is on and nothing is reached: the collection's strict mode (every field
 * set, unindexed filtering refused, with the filtered field indexed), its read and write rates, the
 * tenant's own rates and the subject's rates (the token has a `sub`; the server's subject knobs
 * are set). In `open`, nothing is (and its token has no `sub`). Tenant quotas, which serialize a
 * tenant's growing writes to stay exact, are measured on their own (`quota`).
 */

export interface LimitsFigures {
  readonly readOn: number;
  readonly readOff: number;
  readonly writeOn: number;
  readonly writeOff: number;
  readonly writeQuota: number;
  readonly readRatio: number;
  readonly writeRatio: number;
  readonly quotaRatio: number;
}

const DIM = 64;
const POINTS = 2_000;
const HIGH = 1_000_000_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const vector = (i: number) => Array.from({ length: DIM }, (_, d) => Math.sin(i * 31 + d));

const STRICT = {
  enabled: true,
  max_query_limit: 1000,
  max_timeout: 60,
  unindexed_filtering_retrieve: false,
  unindexed_filtering_update: false,
  search_max_hnsw_ef: 1000,
  search_allow_exact: true,
  search_max_batchsize: 100,
  upsert_max_batchsize: 1000,
  max_points_count: HIGH,
  max_collection_vector_size_bytes: HIGH * 100,
  max_collection_payload_size_bytes: HIGH * 100,
  max_payload_index_count: 10,
  filter_max_conditions: 100,
  condition_max_size: 1000,
  read_rate_limit: HIGH,
  write_rate_limit: HIGH,
};

export async function measureLimits(dir: string, quick: boolean, pin: boolean): Promise<LimitsFigures> {
  const certs = await generateDevCertificates(join(dir, 'certs'));
  const keys = await generateKeyPair('ES256', { extractable: true });
  const jwks = join(dir, 'jwks.json');
  await writeFile(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'b', alg: 'ES256', use: 'sig' }] }));
  const mint = (tenant: string, sub?: string) =>
    new SignJWT({ tenants: [Buffer.from(tenant).toString('base64')], ...(sub === undefined ? {} : { sub }) })
      .setProtectedHeader({ alg: 'ES256', kid: 'b', typ: 'JWT' })
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('2h')
      .sign(keys.privateKey as CryptoKey);
  let server: ChildProcess | undefined;
  try {
    server = spawn(
      pin ? 'taskset' : process.execPath,
      [
        ...(pin ? ['-c', '0', process.execPath] : []),
        'bin/strata.js', 'serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'),
        '--tls-certificate-file', certs.serverCert, '--tls-key-file', certs.serverKey, '--tls-ca-file', certs.caCert,
        '--authorization-public-key-file', jwks,
        `--knob_subject_read_rate_limit=${HIGH}`, `--knob_subject_write_rate_limit=${HIGH}`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const url = await listeningUrl(server);
    const operator = new NativeClient({ url, ca: certs.caCert, cert: certs.operatorCert, key: certs.operatorKey });
    const tokens = { open: await mint('open'), limited: await mint('limited', 'bench-user'), quota: await mint('quota') };
    const ca = readFileSync(certs.caCert);
    const call = async (tenant: keyof typeof tokens, method: 'PUT' | 'POST', path: string, body: unknown) => {
      const res = await fetchJson(url, ca, method, path, body, tokens[tenant]);
      if (res.status !== 200) throw new Error(`${method} ${path} in ${tenant}: ${res.status} ${res.text}`);
    };
    // `docs` is read and never written, so every variant reads the same data; writes go to `ingest`,
    // which each variant grows at the same pace.
    for (const tenant of Object.keys(tokens) as (keyof typeof tokens)[]) {
      await operator.createTenant(tenant);
      for (const collection of ['docs', 'ingest']) {
        await call(tenant, 'PUT', `/collections/${collection}`, { vectors: { size: DIM, distance: 'Cosine' }, hnsw_config: { m: 0 }, ...(tenant === 'limited' ? { strict_mode_config: STRICT } : {}) });
        await call(tenant, 'PUT', `/collections/${collection}/index`, { field_name: 'group', field_schema: 'keyword' });
      }
      for (let i = 0; i < POINTS; i += 500) {
        await call(tenant, 'PUT', '/collections/docs/points', { points: Array.from({ length: 500 }, (_, j) => ({ id: i + j, vector: vector(i + j), payload: { group: `g${(i + j) % 20}` } })) });
      }
    }
    await operator.tenantLimits('limited', { read_rate_limit: HIGH, write_rate_limit: HIGH });
    await operator.tenantLimits('quota', { max_points: HIGH, max_bytes: HIGH * 100 });
    operator.close();

    const duration = quick ? 2 : 3;
    const rounds = quick ? 3 : 7;
    // Reads: a filtered query of 10 (exact scoring of the 100 matching points).
    const read = (tenant: keyof typeof tokens) =>
      load(url, ca, tokens[tenant], duration, 'POST', '/collections/docs/points/query', () => JSON.stringify({ query: vector(7), limit: 10, filter: { must: [{ key: 'group', match: { value: 'g3' } }] } }));
    // Writes: upserts of 8 new points each.
    let nextId = 100_000;
    const write = (tenant: keyof typeof tokens) =>
      load(url, ca, tokens[tenant], duration, 'PUT', '/collections/ingest/points', () =>
        JSON.stringify({ points: Array.from({ length: 8 }, () => ({ id: nextId++, vector: vector(nextId), payload: { group: `g${nextId % 20}` } })) }),
        tenant === 'quota',
      );
    await read('open'); // warm-up: JIT, pages, TLS sessions
    await read('limited');
    const runs = { readOn: [] as number[], readOff: [] as number[], writeOn: [] as number[], writeOff: [] as number[], writeQuota: [] as number[] };
    const ratios = { read: [] as number[], write: [] as number[], quota: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      // The order rotates: a shared machine drifts, so each ratio is taken within a round.
      const first = round % 2 === 0;
      const rOn = first ? await read('limited') : 0;
      const rOff = await read('open');
      const readOn = first ? rOn : await read('limited');
      const writes: Record<string, number> = {};
      const order = ['limited', 'open', 'quota'] as const;
      for (let i = 0; i < order.length; i++) {
        const tenant = order[(round + i) % order.length] as (typeof order)[number];
        writes[tenant] = await write(tenant);
      }
      runs.readOn.push(readOn);
      runs.readOff.push(rOff);
      runs.writeOn.push(writes['limited'] as number);
      runs.writeOff.push(writes['open'] as number);
      runs.writeQuota.push(writes['quota'] as number);
      ratios.read.push(readOn / rOff);
      ratios.write.push((writes['limited'] as number) / (writes['open'] as number));
      ratios.quota.push((writes['quota'] as number) / (writes['open'] as number));
    }
    return {
      readOn: median(runs.readOn),
      readOff: median(runs.readOff),
      writeOn: median(runs.writeOn),
      writeOff: median(runs.writeOff),
      writeQuota: median(runs.writeQuota),
      readRatio: median(ratios.read),
      writeRatio: median(ratios.write),
      quotaRatio: median(ratios.quota),
    };
  } finally {
    server?.kill('SIGTERM');
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}

/**
 * Successful requests/s of `method path` with 16 in flight. Every answer must be a 200, except with
 * `tolerate` (quota writes, which may exhaust their retries on conflicts: those count as not done).
 */
async function load(url: string, ca: Buffer, token: string, duration: number, method: 'PUT' | 'POST', path: string, body: () => string, tolerate = false): Promise<number> {
  const result = await autocannon({
    url: `${url}${path}`,
    method,
    connections: 16,
    duration,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [{ setupRequest: req => ({ ...req, body: body() }) }],
    tlsOptions: { ca, servername: 'localhost' },
  });
  if (result.errors > 0 || (result.non2xx > 0 && !tolerate)) throw new Error(`load on ${path} failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.non2xx === 0 ? result.requests.average : result['2xx'] / result.duration;
}

async function fetchJson(url: string, ca: Buffer, method: string, path: string, body: unknown, token: string): Promise<{ status: number; text: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const u = new URL(path, url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, ca, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Bearer ${token}` } }, res => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', c => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
