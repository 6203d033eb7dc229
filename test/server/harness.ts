import { request as httpsRequest, Agent } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parseTrustedSubnets } from '../../src/auth/trust.js';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { buildApp, type ServerKnobs } from '../../src/server/app.js';
import { devCertificatePaths, generateDevCertificates, type DevCertificates } from '../../src/server/dev-certs.js';
import { Metrics } from '../../src/server/metrics.js';
import { NO_LIMITS, RequestLimits, type LimitDefaults } from '../../src/server/limits.js';
import type { Verifier } from '../../src/server/principal.js';
import { BadCertificateThrottle } from '../../src/server/throttle.js';
import { guardTls } from '../../src/server/tls-guard.js';
import { tempDir } from '../helpers/tmp.js';

/** Development certificates for a test file: the server's CA set, and a rogue set from another CA. */
export async function makeCertificates(): Promise<{ good: DevCertificates; rogue: DevCertificates; remove: () => Promise<void> }> {
  const { dir, remove } = await tempDir('strata-certs');
  const good = await generateDevCertificates(`${dir}/good`);
  const rogue = await generateDevCertificates(`${dir}/rogue`);
  return { good, rogue, remove };
}

/** An app for `inject()` tests (no listener): tokenless access on unless `knobs` say otherwise. */
export function buildTestApp(db: Database, options: { knobs?: Partial<ServerKnobs>; verifier?: Verifier | null; limits?: RequestLimits; metrics?: Metrics } = {}) {
  return buildApp({
    db,
    verifier: options.verifier ?? null,
    subnets: null,
    knobs: { allowTokenlessTenantAccess: true, auditTimeWindowSeconds: 5, maxRequestBodyBytes: 16 << 20, ...options.knobs },
    metrics: options.metrics ?? new Metrics(),
    limits: options.limits ?? new RequestLimits(NO_LIMITS),
    status: { keySet: () => null, tokenCache: () => null, throttled: () => [] },
    now: Date.now,
    logger: false,
  });
}

export interface TestServer {
  readonly port: number;
  readonly db: Database;
  /** Where the server keeps snapshot files. */
  readonly snapshotsDir: string;
  readonly throttle: BadCertificateThrottle;
  close(): Promise<void>;
}

/** A real Strata HTTPS listener on 127.0.0.1 with the given certificates and knobs. */
export async function startServer(
  certs: DevCertificates,
  options: { knobs?: Partial<ServerKnobs>; subnets?: Array<[string, string]>; verifier?: Verifier | null; throttleSeconds?: number; limits?: Partial<LimitDefaults> } = {},
): Promise<TestServer> {
  const { dir, remove } = await tempDir('strata-server');
  const db = await openDatabase({ dataDir: dir });
  const throttle = new BadCertificateThrottle(options.throttleSeconds ?? 9);
  const app = buildApp({
    db,
    verifier: options.verifier ?? null,
    subnets: parseTrustedSubnets(options.subnets ?? []),
    knobs: { allowTokenlessTenantAccess: false, auditTimeWindowSeconds: 5, maxRequestBodyBytes: 16 << 20, ...options.knobs },
    metrics: new Metrics(),
    limits: new RequestLimits({ ...NO_LIMITS, ...options.limits }),
    status: { keySet: () => null, tokenCache: () => null, throttled: () => throttle.throttled() },
    snapshotsDir: `${dir}/snapshots`,
    now: Date.now,
    logger: false,
    https: {
      cert: readFileSync(certs.serverCert),
      key: readFileSync(certs.serverKey),
      ca: readFileSync(certs.caCert),
      requestCert: true,
      rejectUnauthorized: false,
    },
  });
  guardTls(app.server as never, throttle, { warn: () => {} });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    port,
    db,
    snapshotsDir: `${dir}/snapshots`,
    throttle,
    async close() {
      await app.close();
      await db.close();
      await remove();
    },
  };
}

export interface Reply {
  status: number;
  body: unknown;
  /** Whether the client's TLS session was resumed. */
  resumed: boolean;
}

/** One HTTPS request as a client would send it: optionally with a client certificate and a token. */
export function call(
  port: number,
  method: string,
  path: string,
  options: { body?: unknown; client?: { cert: string; key: string }; token?: string; ca: string; agent?: Agent } = { ca: '' },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        servername: 'localhost',
        ca: readFileSync(options.ca),
        ...(options.client === undefined ? {} : { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) }),
        agent: options.agent ?? false,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        },
      },
      res => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', chunk => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text), resumed: (res.socket as TLSSocket).isSessionReused() }),
        );
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export { devCertificatePaths };
