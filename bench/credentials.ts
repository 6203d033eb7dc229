import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { NativeClient } from '../src/client/native-client.js';
import { generateDevCertificates } from '../src/server/dev-certs.js';
import { printJson, printTable, type Row } from './report.js';
import { pinnable, pinSelf, spawnServer } from './server.js';

/**
 * Credentials, against a real server in its own process, loaded from this one over loopback:
 *  - token exchanges/s (`POST /v1/auth/token` with an API key: a key lookup, a durable write of
 *    the refresh token and the key's last use, an ES256 signature);
 *  - requests/s of the transact route (one get) with the API key sent as Qdrant's `api-key`
 *    versus the access token exchanged from it, cached by the server (`apikey_ratio`).
 */
export async function benchCredentials(quick: boolean): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-credentials-'));
  let server: ChildProcess | undefined;
  try {
    const certs = await generateDevCertificates(join(dir, 'certs'));
    const pin = await pinnable();
    if (pin) await pinSelf(1);
    let url: string;
    ({ server, url } = await spawnServer(dir, certs, pin, [
      // The bench's own failed attempts are none; this only keeps a bad run from being throttled.
        '--knob_auth_failures_per_minute=1000000',
    ]));
    const operator = new NativeClient({ url, ca: certs.caCert, cert: certs.operatorCert, key: certs.operatorKey });
    await operator.createTenant('bench');
    await operator.transact('bench', { ops: [{ op: 'set', key: 'aGVsbG8=', value: 'd29ybGQ=' }] });
    const { key } = await operator.createApiKey({ name: 'bench', tenants: ['bench'] });
    operator.close();
    const tls = { ca: readFileSync(certs.caCert), servername: 'localhost' };
    const exchangeBody = JSON.stringify({ grant_type: 'api_key', api_key: key });
    const first = await fetchToken(url, tls.ca, exchangeBody);

    const duration = quick ? 2 : 3;
    const rounds = quick ? 5 : 9;
    const run = async (options: { path: string; body: string; headers: Record<string, string> }) => {
      const result = await autocannon({
        url: `${url}${options.path}`,
        method: 'POST',
        connections: 32,
        duration,
        body: options.body,
        headers: { 'content-type': 'application/json', ...options.headers },
        tlsOptions: tls,
      });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`load run failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
      return result.requests.average;
    };
    const transact = { path: '/v1/tenants/bench/transact', body: JSON.stringify({ ops: [{ op: 'get', key: 'aGVsbG8=' }] }) };
    const variants = {
      apiKey: () => run({ ...transact, headers: { 'api-key': key } }),
      token: () => run({ ...transact, headers: { authorization: `Bearer ${first}` } }),
    };
    type Variant = keyof typeof variants;
    await variants.token(); // warm-up: JIT, LMDB pages, TLS sessions, both caches
    await variants.apiKey();
    const runs: Record<Variant, number[]> = { apiKey: [], token: [] };
    // Short rounds, alternating which goes first; the ratio is taken within each round and the
    // median over rounds is reported (a shared machine drifts more than the difference measured).
    for (let round = 0; round < rounds; round++) {
      const order: Variant[] = round % 2 === 0 ? ['apiKey', 'token'] : ['token', 'apiKey'];
      for (const v of order) runs[v].push(await variants[v]());
    }
    const exchanges = await run({ path: '/v1/auth/token', body: exchangeBody, headers: {} });
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const apikeyRatio = median(runs.apiKey.map((a, i) => a / (runs.token[i] as number)));
    const rows: Row[] = [
      { metric: 'transact (1 get), API key as api-key vs exchanged token (cached)', strata: median(runs.apiKey), baseline: median(runs.token), ratio: apikeyRatio, unit: 'req/s' },
    ];
    printTable(`credentials${quick ? ' (quick)' : ''}`, 'baseline', rows);
    console.log(`token exchanges (API key for an access and a refresh token): ${exchanges.toFixed(0)}/s`);
    printJson('credentials', {
      exchanges_per_s: exchanges,
      apikey_ratio: apikeyRatio,
      req_per_s_apikey: median(runs.apiKey),
      req_per_s_token: median(runs.token),
    });
  } finally {
    server?.kill('SIGTERM');
    await new Promise(resolve => setTimeout(resolve, 500));
    await rm(dir, { recursive: true, force: true });
  }
}

/** One exchange, as a service makes it at start-up. */
async function fetchToken(url: string, ca: Buffer, body: string): Promise<string> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/auth/token`, { method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, res => {
      let text = '';
      res.on('data', chunk => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(text) as { access_token: string }).access_token) : reject(new Error(`exchange failed: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
