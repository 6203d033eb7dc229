import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { KeySet } from '../src/auth/keyset.js';
import { TokenVerifier } from '../src/auth/token.js';
import { NativeClient } from '../src/client/native-client.js';
import { generateDevCertificates } from '../src/server/dev-certs.js';
import { printJson, printTable, type Row } from './report.js';
import { pinnable, pinSelf, spawnServer } from './server.js';

/**
 * Authorization costs:
 *  - requests/s of the transact route (one get) with a cached token vs the same route on the same
 *    server without a token (tokenless access on), load from this process over loopback;
 *  - token verifications/s with the cache off vs jose's own jwtVerify on the same token (ES256, RS256);
 *  - the cost of a cache hit, in µs.
 */
export async function benchAuth(quick: boolean): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-auth-'));
  let server: ChildProcess | undefined;
  try {
    const certs = await generateDevCertificates(join(dir, 'certs'));
    const keys = { ES256: await generateKeyPair('ES256', { extractable: true }), RS256: await generateKeyPair('RS256', { extractable: true }) };
    const jwks = { keys: await Promise.all(Object.entries(keys).map(async ([alg, k]) => ({ ...(await exportJWK(k.publicKey)), kid: alg, alg, use: 'sig' }))) };
    const jwksFile = join(dir, 'jwks.json');
    await writeFile(jwksFile, JSON.stringify(jwks));
    const mint = (alg: 'ES256' | 'RS256') =>
      new SignJWT({ tenants: [Buffer.from('bench').toString('base64')] })
        .setProtectedHeader({ alg, kid: alg, typ: 'JWT' })
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime('1h')
        .setJti(`bench-${alg}`)
        .sign(keys[alg].privateKey as CryptoKey);
    const tokens = { ES256: await mint('ES256'), RS256: await mint('RS256') };

    // In-process: verification with the cache off vs jose, and a cache hit.
    const keySet = await KeySet.load(jwksFile, { logger: { warn: () => {}, error: () => {} } });
    const uncached = new TokenVerifier(keySet, { cacheSize: 0 });
    const cached = new TokenVerifier(keySet, { cacheSize: 2000 });
    const verifyMs = quick ? 1_000 : 3_000;
    const rate = async (ms: number, op: () => Promise<unknown>) => {
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < ms) {
        await op();
        n++;
      }
      return (n * 1000) / (performance.now() - start);
    };
    const verify: Record<string, { ours: number; jose: number }> = {};
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    for (const alg of ['ES256', 'RS256'] as const) {
      const token = tokens[alg];
      const key = keys[alg].publicKey;
      await uncached.verify(token);
      // Alternating short rounds, medians: a shared machine's drift hits both sides alike.
      const jose: number[] = [];
      const ours: number[] = [];
      for (let round = 0; round < 5; round++) {
        jose.push(await rate(verifyMs / 5, () => jwtVerify(token, key, { algorithms: [alg] })));
        ours.push(await rate(verifyMs / 5, () => uncached.verify(token)));
      }
      verify[alg] = { jose: median(jose), ours: median(ours) };
    }
    await cached.verify(tokens.ES256);
    const hits = quick ? 200_000 : 1_000_000;
    const hitStart = performance.now();
    for (let i = 0; i < hits; i++) await cached.verify(tokens.ES256);
    const cacheHitUs = ((performance.now() - hitStart) * 1000) / hits;

    // Over the network: a real server in its own process.
    // Server and load generator each on a core of their own where the machine allows, so that they
    // measure each other rather than fight over the same core.
    const pin = await pinnable();
    if (pin) await pinSelf(1);
    let url: string;
    ({ server, url } = await spawnServer(dir, certs, pin, [
      '--authorization-public-key-file', jwksFile, '--knob_allow_tokenless_tenant_access=true',
    ]));
    const operator = new NativeClient({ url, ca: certs.caCert, cert: certs.operatorCert, key: certs.operatorKey });
    await operator.createTenant('bench');
    await operator.transact('bench', { ops: [{ op: 'set', key: 'aGVsbG8=', value: 'd29ybGQ=' }] });
    operator.close();
    const duration = quick ? 2 : 3;
    const rounds = quick ? 5 : 9;
    const load = async (token: string | undefined, padding = 0) => {
      const result = await autocannon({
        url: `${url}/v1/tenants/bench/transact`,
        method: 'POST',
        connections: 32,
        duration,
        body: JSON.stringify({ ops: [{ op: 'get', key: 'aGVsbG8=' }] }),
        headers: {
          'content-type': 'application/json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(padding === 0 ? {} : { 'x-padding': 'x'.repeat(padding) }),
        },
        tlsOptions: { ca: readFileSync(certs.caCert), servername: 'localhost' },
      });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`load run failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
      return result.requests.average;
    };
    await load(undefined); // warm-up: JIT, LMDB pages, TLS sessions
    // Tokenless again, with a header as long as the token's: what presenting any token costs on the
    // wire (TLS, parsing), apart from Strata's checks.
    const tokenHeaderBytes = `Bearer ${tokens.ES256}`.length;
    const variants = { tokenless: () => load(undefined), token: () => load(tokens.ES256), sameBytes: () => load(undefined, tokenHeaderBytes) };
    type Variant = keyof typeof variants;
    const runs: Record<Variant, number[]> = { tokenless: [], token: [], sameBytes: [] };
    // Many short rounds, each running the three back to back in a rotating order: a shared
    // machine's speed drifts by more than the difference measured, so each ratio is taken within
    // a round (neighbours in time) and the median over rounds resists the rounds a neighbour disturbed.
    const order: Variant[] = ['tokenless', 'token', 'sameBytes'];
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < order.length; i++) {
        const variant = order[(round + i) % order.length] as Variant;
        runs[variant].push(await variants[variant]());
      }
    }
    const roundRatios = (over: Variant) => median(runs.token.map((t, i) => t / (runs[over][i] as number)));
    const tokenlessRps = median(runs.tokenless);
    const tokenRps = median(runs.token);
    const sameBytesRps = median(runs.sameBytes);
    const cachedAuthRatio = roundRatios('tokenless');
    const sameBytesRatio = roundRatios('sameBytes');

    const rows: Row[] = [
      { metric: 'transact (1 get), cached token vs tokenless', strata: tokenRps, baseline: tokenlessRps, ratio: cachedAuthRatio, unit: 'req/s' },
      { metric: '  the same, tokenless sending as many header bytes', strata: tokenRps, baseline: sameBytesRps, ratio: sameBytesRatio, unit: 'req/s' },
      { metric: 'verify ES256, cache off vs jose jwtVerify', strata: verify['ES256']!.ours, baseline: verify['ES256']!.jose, unit: 'tokens/s' },
      { metric: 'verify RS256, cache off vs jose jwtVerify', strata: verify['RS256']!.ours, baseline: verify['RS256']!.jose, unit: 'tokens/s' },
    ];
    printTable(`auth: Strata's authorization costs${quick ? ' (quick)' : ''}`, 'baseline', rows);
    console.log(`token cache hit: ${cacheHitUs.toFixed(2)} µs (one ES256 signature check: ${(1e6 / verify['ES256']!.jose).toFixed(0)} µs)`);
    const ratio = (alg: 'ES256' | 'RS256') => verify[alg]!.ours / verify[alg]!.jose;
    printJson('auth', {
      cached_auth_ratio: cachedAuthRatio,
      cached_auth_ratio_same_bytes: sameBytesRatio,
      verify_ratio: Math.min(ratio('ES256'), ratio('RS256')),
      verify_ratio_es256: ratio('ES256'),
      verify_ratio_rs256: ratio('RS256'),
      cache_hit_us: cacheHitUs,
      req_per_s_cached_token: tokenRps,
      req_per_s_tokenless: tokenlessRps,
      req_per_s_tokenless_same_bytes: sameBytesRps,
      verify_per_s_es256: verify['ES256']!.ours,
      jose_verify_per_s_es256: verify['ES256']!.jose,
      verify_per_s_rs256: verify['RS256']!.ours,
      jose_verify_per_s_rs256: verify['RS256']!.jose,
    });
  } finally {
    server?.kill('SIGTERM');
    await new Promise(resolve => setTimeout(resolve, 500));
    await rm(dir, { recursive: true, force: true });
  }
}
