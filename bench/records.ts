import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { openDatabase } from '../src/kv/open.js';
import { createTenant } from '../src/tenancy/registry.js';
import { TenantTransaction } from '../src/tenancy/scoped.js';
import { NativeClient } from '../src/client/native-client.js';
import { generateDevCertificates } from '../src/server/dev-certs.js';
import { createCollection } from '../layers/record/collections.js';
import { parseUpsertPoints } from '../layers/record/parse-points.js';
import { upsertPoints } from '../layers/record/points-write.js';
import { printJson, printTable, type Row } from './report.js';
import { listeningUrl } from './server.js';

/**
 * The record layer and its Qdrant API:
 *  - ingest in batches of 256 points (384 dimensions, small payloads) through the library and over
 *    HTTPS to a server in its own process;
 *  - filtered count and scroll (1% selectivity) on a field with a payload index vs its unindexed
 *    twin holding the same values, in the same collection (`index_speedup` is the worse of count
 *    and a scroll of every match; the first page alone is reported too, as it gains less);
 *  - a payload-scoped token's scroll vs a full token's scroll with the same filter written by hand.
 */

const DIM = 384;
const BATCH = 256;
const GROUPS = 100;

function makeVector(i: number): number[] {
  const v = new Array<number>(DIM);
  let s = i * 2654435761;
  for (let d = 0; d < DIM; d++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v[d] = s / 2147483648 - 0.5;
  }
  return v;
}

const pointAt = (i: number) => ({ id: i, vector: makeVector(i), payload: { group: `g${i % GROUPS}`, group_copy: `g${i % GROUPS}`, n: i, title: `document ${i}` } });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function benchRecords(quick: boolean): Promise<void> {
  const total = quick ? 20_000 : 100_000;
  const libPoints = quick ? 5_120 : 20_480;
  const dir = await mkdtemp(join(tmpdir(), 'bench-records-'));
  let server: ChildProcess | undefined;
  try {
    // Library ingest.
    const db = await openDatabase({ dataDir: join(dir, 'lib') });
    const prefix = (await db.transact(tx => createTenant(tx, 'bench'))).prefix;
    const lib = await db.transact(tx => createCollection(new TenantTransaction(tx, prefix), 'lib', { vectors: { size: DIM, distance: 'Cosine' } }));
    const libStart = performance.now();
    for (let i = 0; i < libPoints; i += BATCH) {
      const body = { points: Array.from({ length: BATCH }, (_, j) => pointAt(i + j)) };
      await db.transact(async tx => upsertPoints(new TenantTransaction(tx, prefix), lib, parseUpsertPoints(lib.config, body)));
    }
    const ingestLib = (libPoints * 1000) / (performance.now() - libStart);
    await db.close();

    // A server in its own process.
    const certs = await generateDevCertificates(join(dir, 'certs'));
    const keys = await generateKeyPair('ES256', { extractable: true });
    const jwks = join(dir, 'jwks.json');
    await writeFile(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'b', alg: 'ES256', use: 'sig' }] }));
    const mint = (extra: Record<string, unknown>) =>
      new SignJWT({ tenants: [Buffer.from('bench').toString('base64')], ...extra })
        .setProtectedHeader({ alg: 'ES256', kid: 'b', typ: 'JWT' })
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime('2h')
        .sign(keys.privateKey as CryptoKey);
    const full = await mint({});
    const scoped = await mint({ access: [{ collection: 'docs', access: 'r', payload: { group: 'g7' } }] });
    server = spawn(process.execPath, ['bin/strata.js', 'serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'), '--tls-certificate-file', certs.serverCert, '--tls-key-file', certs.serverKey, '--tls-ca-file', certs.caCert, '--authorization-public-key-file', jwks], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await listeningUrl(server);
    const operator = new NativeClient({ url, ca: certs.caCert, cert: certs.operatorCert, key: certs.operatorKey });
    await operator.createTenant('bench');
    operator.close();
    const agent = new Agent({ keepAlive: true, maxSockets: 8, ca: readFileSync(certs.caCert), servername: 'localhost' });
    const port = Number(new URL(url).port);
    const send = (method: string, path: string, body: unknown, token: string) =>
      new Promise<{ status: number; json: { result?: unknown } }>((resolve, reject) => {
        const payload = Buffer.from(JSON.stringify(body));
        const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Bearer ${token}` } }, res => {
          const chunks: Buffer[] = [];
          res.on('data', c => chunks.push(c));
          res.on('end', () => {
            const json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${JSON.stringify(json)}`));
            else resolve({ status: res.statusCode ?? 0, json });
          });
        });
        req.on('error', reject);
        req.end(payload);
      });
    // No graph (m: 0): this bench measures the record layer; building the vector index (which the
    // server would otherwise do in the background, competing for the same two cores) is the
    // vectors bench's subject.
    await send('PUT', '/collections/docs', { vectors: { size: DIM, distance: 'Cosine' }, hnsw_config: { m: 0 } }, full);
    await send('PUT', '/collections/docs/index?wait=true', { field_name: 'group', field_schema: 'keyword' }, full);

    // HTTP ingest: four requests in flight, as a loader would.
    const httpStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < total) {
          const from = next;
          next += BATCH;
          await send('PUT', '/collections/docs/points?wait=true', { points: Array.from({ length: Math.min(BATCH, total - from) }, (_, j) => pointAt(from + j)) }, full);
        }
      }),
    );
    const ingestHttp = (total * 1000) / (performance.now() - httpStart);

    // Filtered reads, alternating the variants in short rounds.
    const timeOf = async (op: () => Promise<unknown>, ms: number) => {
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < ms) {
        await op();
        n++;
      }
      return (performance.now() - start) / n;
    };
    const match = (key: string) => ({ must: [{ key, match: { value: 'g7' } }] });
    const ops = {
      countIndexed: () => send('POST', '/collections/docs/points/count', { filter: match('group'), exact: true }, full),
      countScan: () => send('POST', '/collections/docs/points/count', { filter: match('group_copy'), exact: true }, full),
      // Every match (1% of the points, up to 1,000): what the filter's selectivity is about.
      scrollIndexed: () => send('POST', '/collections/docs/points/scroll', { filter: match('group'), limit: 1000, with_payload: true }, full),
      scrollScan: () => send('POST', '/collections/docs/points/scroll', { filter: match('group_copy'), limit: 1000, with_payload: true }, full),
      // The first page only: a scan stops after about 100 / 1% points, so the index gains less.
      pageIndexed: () => send('POST', '/collections/docs/points/scroll', { filter: match('group'), limit: 100, with_payload: true }, full),
      pageScan: () => send('POST', '/collections/docs/points/scroll', { filter: match('group_copy'), limit: 100, with_payload: true }, full),
      scrollScoped: () => send('POST', '/collections/docs/points/scroll', { limit: 100, with_payload: true }, scoped),
    };
    const counted = (await ops.countIndexed()).json.result as { count: number };
    if (counted.count !== total / GROUPS) throw new Error(`count found ${counted.count} points, expected ${total / GROUPS}`);
    const rounds = quick ? 3 : 5;
    const ms = quick ? 600 : 1500;
    const t = Object.fromEntries(Object.keys(ops).map(k => [k, [] as number[]])) as Record<keyof typeof ops, number[]>;
    const scopedRatios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const name of Object.keys(ops) as (keyof typeof ops)[]) t[name].push(await timeOf(ops[name], ms));
      scopedRatios.push((t.pageIndexed[r] as number) / (t.scrollScoped[r] as number));
    }
    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof ops, number>;
    const speedupCount = m.countScan / m.countIndexed;
    const speedupScroll = m.scrollScan / m.scrollIndexed;
    const speedupPage = m.pageScan / m.pageIndexed;
    const scopedRatio = median(scopedRatios);

    const rows: Row[] = [
      { metric: `count, 1% of ${total.toLocaleString('en-US')} points: payload index vs scan`, strata: 1000 / m.countIndexed, baseline: 1000 / m.countScan, unit: 'req/s' },
      { metric: 'scroll of every match, 1%: payload index vs scan', strata: 1000 / m.scrollIndexed, baseline: 1000 / m.scrollScan, unit: 'req/s' },
      { metric: 'scroll, first 100 matches: payload index vs scan', strata: 1000 / m.pageIndexed, baseline: 1000 / m.pageScan, unit: 'req/s' },
      { metric: 'scroll (100): scoped token vs the filter by hand', strata: 1000 / m.scrollScoped, baseline: 1000 / m.pageIndexed, ratio: scopedRatio, unit: 'req/s' },
    ];
    printTable(`records: the record layer and its Qdrant API${quick ? ' (quick)' : ''}`, 'baseline', rows);
    console.log(`ingest, batches of ${BATCH} (${DIM} dimensions): library ${Math.round(ingestLib).toLocaleString('en-US')} points/s, HTTPS ${Math.round(ingestHttp).toLocaleString('en-US')} points/s`);
    printJson('records', {
      ingest_lib_pps: ingestLib,
      ingest_http_pps: ingestHttp,
      index_speedup: Math.min(speedupCount, speedupScroll),
      index_speedup_count: speedupCount,
      index_speedup_scroll: speedupScroll,
      index_speedup_first_page: speedupPage,
      scoped_ratio: scopedRatio,
      points: total,
    });
    agent.destroy();
  } finally {
    server?.kill('SIGTERM');
    await new Promise(resolve => setTimeout(resolve, 500));
    await rm(dir, { recursive: true, force: true });
  }
}
