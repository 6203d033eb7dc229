import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { KeySet } from '../auth/keyset.js';
import { sweepRevocations } from '../auth/revocation.js';
import { TokenVerifier } from '../auth/token.js';
import { IssuingKeys } from '../auth/issuing-keys.js';
import { KeyRing } from '../auth/key-ring.js';
import { RemoteKeySet } from '../auth/remote-keyset.js';
import { ApiKeyAuthenticator } from '../auth/apikey-auth.js';
import { sweepRefreshTokens, type SweepCursor } from '../auth/refresh-tokens.js';
import { AuthFailureThrottle } from './auth-failures.js';
import { parseTrustedSubnets } from '../auth/trust.js';
import { invalidArgument } from '../errors.js';
import { openDatabase } from '../kv/open.js';
import type { Database } from '../kv/types.js';
import { VectorIndexer } from '../../layers/vector/indexer.js';
import { VectorCache } from '../../layers/vector/cache.js';
import { cleanOrphanRestores } from '../snapshot/claims.js';
import { buildApp } from './app.js';
import { ensureDevMaterial, type DevMaterial } from './dev-material.js';
import { RequestLimits } from './limits.js';
import { tenantHandle } from '../tenancy/tenant.js';
import { tenantUsage } from '../../layers/record/usage.js';
import { Metrics } from './metrics.js';
import { parseListen, type ServeConfig } from './config.js';
import { BadCertificateThrottle } from './throttle.js';
import { guardTls } from './tls-guard.js';

/** A running server. */
export interface RunningServer {
  readonly url: string;
  readonly logger: Logger;
  /** Development material made or found (when no TLS flags were given). */
  readonly dev: DevMaterial | undefined;
  /** Re-read the JWK Set file now (SIGHUP). */
  reloadKeys(): Promise<void>;
  /** Stop accepting, finish in-flight requests, close the engine. */
  close(): Promise<void>;
}

const DEFAULT_LISTEN = '127.0.0.1:6333';
const DEV_DIR = join('certs', 'dev');
/** Lapsed revocations are dropped this often. */
const SWEEP_MS = 60_000;

/** Start `strata serve` with `config` (already parsed). */
export async function startServe(config: ServeConfig, options: { logger?: Logger; now?: () => number } = {}): Promise<RunningServer> {
  const logger =
    options.logger ??
    pino({ redact: { paths: ['req.headers.authorization', 'req.headers["api-key"]', 'token'], censor: '[redacted]' } });
  const now = options.now ?? Date.now;
  const { flags, knobs } = config;
  const tlsGiven = ['tls-certificate-file', 'tls-key-file', 'tls-ca-file'].filter(f => flags[f as keyof typeof flags] !== undefined);
  if (tlsGiven.length !== 0 && tlsGiven.length !== 3) {
    throw invalidArgument('give all of --tls-certificate-file, --tls-key-file and --tls-ca-file, or none (for development certificates)');
  }
  const dev = tlsGiven.length === 0 ? await ensureDevMaterial(DEV_DIR, flags['authorization-public-key-file'] === undefined) : undefined;
  const tls = dev === undefined
    ? { cert: flags['tls-certificate-file'] as string, key: flags['tls-key-file'] as string, ca: flags['tls-ca-file'] as string }
    : { cert: dev.certs.serverCert, key: dev.certs.serverKey, ca: dev.certs.caCert };
  const publicKeyFile = flags['authorization-public-key-file'] ?? dev?.jwksFile;

  const db: Database = flags['cluster-file'] !== undefined
    ? await openDatabase({ clusterFile: flags['cluster-file'] })
    : await openDatabase({ dataDir: flags['data-dir'] ?? './data' });
  const timers: NodeJS.Timeout[] = [];
  const stoppers: Array<() => void> = [];
  try {
    const keySet = publicKeyFile === undefined ? null : await KeySet.load(publicKeyFile, { logger, now });
    // Strata's own issuing keys (for tokens exchanged from API keys) are always in the ring, so
    // there is always a verifier: the JWK Set file only adds keys to it.
    const issuing = await IssuingKeys.open(db, { now });
    stoppers.push(() => issuing.stop());
    issuing.start(err => logger.warn({ err }, 'reloading the issuing keys failed'));
    const providers = await startProviders(config, logger, now);
    for (const p of providers) stoppers.push(() => p.stop());
    const keyRing = new KeyRing({ local: keySet === null ? [issuing] : [keySet, issuing], providers });
    const verifier =
      new TokenVerifier(keyRing, {
            ...(knobs.token_issuer === '' ? {} : { issuer: knobs.token_issuer }),
            ...(knobs.token_audience === '' ? {} : { audience: knobs.token_audience }),
            clockSkewSeconds: knobs.token_clock_skew_seconds,
            maxTokenBytes: knobs.max_token_size_bytes,
            cacheSize: knobs.token_cache_size,
            now,
          });
    let keyReloads = 0;
    const reloadKeys = async () => {
      keyReloads++;
      // A bad file is logged by the key set and leaves the previous keys in force.
      await keySet?.reload().catch(() => undefined);
    };
    if (keySet !== null) timers.push(setInterval(() => void reloadKeys(), knobs.public_key_file_refresh_interval_seconds * 1000));

    const metrics = new Metrics({ tenantLabels: knobs.metrics_tenant_labels, processMetrics: true });
    const throttle = new BadCertificateThrottle(knobs.bad_certificate_throttle_seconds, now);
    metrics.observe('strata_tls_bad_certificates_total', 'handshakes that presented a client certificate that does not verify', () => throttle.badCertificates, 'counter');
    metrics.observe('strata_tls_throttled_connections_total', 'connections closed because their address was throttled', () => throttle.refused, 'counter');
    metrics.observe('strata_token_cache_hits_total', 'token cache hits', () => verifier.stats().hits, 'counter');
    metrics.observe('strata_token_cache_misses_total', 'token cache misses', () => verifier.stats().misses, 'counter');
    metrics.observe('strata_key_set_reloads_total', 'JWK Set file reloads (timer and SIGHUP)', () => keyReloads, 'counter');
    metrics.observeLabelled('strata_jwks_fetches_total', 'fetches of the identity providers\' JWKS URLs, by result (ok or failed)', 'result', () => {
      const sum = (result: 'ok' | 'failed') => providers.reduce((n, p) => n + p.counts[result], 0);
      return [['ok', sum('ok')], ['failed', sum('failed')]];
    }, 'counter');
    const limits = new RequestLimits(
      {
        tenantReadRateLimit: knobs.tenant_read_rate_limit,
        tenantWriteRateLimit: knobs.tenant_write_rate_limit,
        subjectReadRateLimit: knobs.subject_read_rate_limit,
        subjectWriteRateLimit: knobs.subject_write_rate_limit,
        tenantMaxPoints: knobs.tenant_max_points,
        tenantMaxBytes: knobs.tenant_max_bytes,
      },
      { now, onLimited: (scope, kind, tenant) => metrics.limited(scope, kind, tenant) },
    );
    const failures = new AuthFailureThrottle(knobs.auth_failures_per_minute, now);
    const apiKeys = new ApiKeyAuthenticator(db, { cacheSize: knobs.token_cache_size, now, onError: err => logger.warn({ err }, 'recording an API key\'s last use failed') });
    metrics.observe('strata_auth_failures_refused_total', 'credential attempts refused because their address or key id failed too often', () => failures.refused, 'counter');
    const app = buildApp({
      db,
      apiKeys: { authenticator: apiKeys, failures },
      credentials: {
        issuing,
        failures,
        exchange: {
          db,
          issuing,
          now,
          accessTtlSeconds: knobs.access_token_ttl_seconds,
          refreshTtlSeconds: knobs.refresh_token_ttl_seconds,
          issuer: knobs.token_issuer === '' ? 'strata' : knobs.token_issuer,
          ...(knobs.token_audience === '' ? {} : { audience: knobs.token_audience }),
        },
      },
      limits,
      vectorCache: new VectorCache(undefined, knobs.vector_cache_bytes),
      snapshotsDir: flags['snapshots-dir'] ?? (flags['cluster-file'] !== undefined ? './snapshots' : join(flags['data-dir'] ?? './data', 'snapshots')),
      verifier,
      subnets: parseTrustedSubnets(config.trustedSubnets),
      knobs: {
        allowTokenlessTenantAccess: knobs.allow_tokenless_tenant_access,
        auditTimeWindowSeconds: knobs.audit_time_window_seconds,
        maxRequestBodyBytes: knobs.max_request_body_bytes,
        maxInFlightRequests: knobs.max_in_flight_requests,
        maxSnapshotUploadBytes: knobs.max_snapshot_upload_bytes,
      },
      metrics,
      status: {
        keySet: () => (keySet === null ? null : { kids: keySet.kids(), lastReload: keySet.lastReload }),
        tokenCache: () => verifier.stats(),
        throttled: () => throttle.throttled(),
        identityProviders: () =>
          providers.map(p => ({ url: p.url, issuer: p.issuer, kids: p.kids(), lastReload: p.lastReload ?? null, lastError: p.lastError?.message ?? null })),
      },
      now,
      logger,
      https: { cert: readFileSync(tls.cert), key: readFileSync(tls.key), ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: false },
    });
    guardTls(app.server as never, throttle, logger);
    // Past this many open connections, new ones are closed at once (no TLS handshake to answer on).
    app.server.maxConnections = knobs.max_connections;
    const { host, port } = parseListen(flags.listen ?? DEFAULT_LISTEN);
    await app.listen({ host, port });
    const address = app.server.address() as AddressInfo;
    const url = `https://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

    let metricsServer: HttpServer | undefined;
    if (flags['metrics-listen'] !== undefined) {
      const m = parseListen(flags['metrics-listen']);
      metricsServer = createServer((req, res) => {
        if (req.url !== '/metrics') return void res.writeHead(404).end();
        void metrics.render().then(
          text => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      });
      await new Promise<void>(resolve => metricsServer?.listen(m.port, m.host, resolve));
    }
    // Background chores, each on an interval; a failure is logged and the next round tries again.
    const repeat = (ms: number, what: string, chore: () => Promise<unknown>) =>
      timers.push(setInterval(() => void chore().catch(err => logger.warn({ err }, `${what} failed`)), ms));
    let sweepFrom: Uint8Array | undefined;
    repeat(SWEEP_MS, 'revocation sweep', async () => {
      ({ next: sweepFrom } = await db.transact(tx => sweepRevocations(tx, Math.floor(now() / 1000), sweepFrom === undefined ? {} : { after: sweepFrom })));
    });
    let refreshFrom: SweepCursor = {};
    repeat(SWEEP_MS, 'refresh token sweep', async () => {
      ({ next: refreshFrom } = await db.transact(tx => sweepRefreshTokens(tx, now(), refreshFrom)));
    });
    // What restores that died left behind (data under ids they never switched to) goes now, and
    // every ten minutes. The embedded engine's store is this process's alone, so at start every
    // restore marker is a dead one's, however fresh its heartbeat; on FoundationDB another server
    // may be restoring, so only stale markers go.
    const clean = async (staleAfterMs?: number) => {
      const cleaned = await cleanOrphanRestores(db, { now, ...(staleAfterMs === undefined ? {} : { staleAfterMs }) });
      if (cleaned > 0) logger.info({ cleaned }, 'removed the data of restores that did not finish');
    };
    repeat(10 * 60_000, 'cleaning up unfinished restores', () => clean());
    for (const t of timers) t.unref();
    const cleanup = clean(db.engine === 'embedded' ? 0 : undefined).catch(err => logger.warn({ err }, 'cleaning up unfinished restores failed'));
    // Links new and changed vectors into the collections' graphs, in the background.
    const indexer = new VectorIndexer(db, { batchMs: knobs.vector_index_batch_ms, cacheBytes: knobs.vector_cache_bytes, onError: err => logger.warn({ err }, 'vector indexing failed; retrying') });
    indexer.start();
    metrics.observe('strata_vector_points_linked_total', 'points the background indexer linked into (or unlinked from) HNSW graphs', () => indexer.stats().linked, 'counter');
    metrics.observeTenants(
      tenant => tenantHandle(db, tenant).transact(async tx => {
        const { points, bytes } = await tenantUsage(tx, { snapshot: true });
        return { points, bytes };
      }),
      { points: 'points a tenant holds over all its collections (labelled tenants only)', bytes: 'bytes of payloads and vectors a tenant holds (labelled tenants only)' },
    );
    metrics.observe('strata_vector_index_backlog_collections', 'collections with points waiting to be linked, at the start of the indexer\'s last round', () => indexer.stats().backlog);
    logger.info({ url, engine: db.engine, keys: keySet?.kids() ?? [], dev: dev !== undefined }, `Strata listening on ${url}`);
    return {
      url,
      logger,
      dev,
      reloadKeys,
      async close() {
        for (const t of timers) clearInterval(t);
        for (const stop of stoppers) stop();
        await app.close();
        await indexer.stop();
        await cleanup;
        await new Promise<void>(resolve => (metricsServer === undefined ? resolve() : metricsServer.close(() => resolve())));
        await db.close();
      },
    };
  } catch (err) {
    for (const t of timers) clearInterval(t);
    for (const stop of stoppers) stop();
    await db.close();
    throw err;
  }
}

/**
 * The identity providers of `--authorization-jwks-url`, each fetched once before this resolves. One
 * that is down starts with no keys (logged) and is tried again on its interval: it never stops the
 * server from starting.
 */
async function startProviders(config: ServeConfig, logger: Logger, now: () => number): Promise<RemoteKeySet[]> {
  const caFile = config.flags['authorization-jwks-ca-file'];
  let ca: Buffer | undefined;
  try {
    ca = caFile === undefined ? undefined : readFileSync(caFile);
    // Parsed now so that a wrong file stops the start, rather than failing every fetch later.
    if (ca !== undefined) new X509Certificate(ca);
  } catch (err) {
    throw invalidArgument(`--authorization-jwks-ca-file ${caFile ?? ''} is not a readable PEM certificate: ${(err as Error).message}`);
  }
  const providers = config.jwks.map(
    p =>
      new RemoteKeySet({
        ...p,
        tenantsClaim: config.knobs.jwks_tenants_claim,
        ...(ca === undefined ? {} : { ca }),
        logger,
        now,
        refreshIntervalSeconds: config.knobs.jwks_refresh_interval_seconds,
      }),
  );
  await Promise.all(providers.map(p => p.start()));
  return providers;
}
