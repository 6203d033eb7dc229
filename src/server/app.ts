import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { TrustedSubnets } from '../auth/trust.js';
import { ERROR_CODES, isStrataError, StrataError, type ErrorCode } from '../errors.js';
import type { Database } from '../kv/types.js';
import type { VectorCache } from '../../layers/vector/cache.js';
import type { RequestLimits } from './limits.js';
import type { Metrics } from './metrics.js';
import { resolvePrincipal, type DirectApiKeys, type Verifier } from './principal.js';
import { registerCredentialRoutes, type CredentialDeps } from './routes/credentials.js';
import { registerAdminRoutes, type StatusSources } from './routes/admin.js';
import { registerNativeRoutes } from './routes/native.js';
import { isQdrantPath, qdrantErrorBody } from './qdrant/respond.js';
import { registerQdrantCollectionRoutes } from './routes/qdrant-collections.js';
import { registerQdrantPointRoutes } from './routes/qdrant-points.js';
import { registerQdrantSearchRoutes } from './routes/qdrant-search.js';
import { registerQdrantSnapshotRoutes } from './routes/qdrant-snapshots.js';
import { registerSnapshotAdminRoutes } from './routes/admin-snapshots.js';
import { HTTP_STATUS } from './status.js';

/** The server's behaviour knobs (DESIGN §5), already parsed. */
export interface ServerKnobs {
  readonly allowTokenlessTenantAccess: boolean;
  readonly auditTimeWindowSeconds: number;
  readonly maxRequestBodyBytes: number;
  /** Requests answered at once; past it, 503 `ERR_SERVER_OVERLOADED` with `Retry-After` (default: no limit). */
  readonly maxInFlightRequests?: number;
  /** The largest snapshot a tenant may upload to restore (default: no limit beyond the request timeout). */
  readonly maxSnapshotUploadBytes?: number;
}

/** Everything the app needs, passed in (no singletons): see `strata serve` for the wiring. */
export interface AppDeps {
  readonly db: Database;
  readonly verifier: Verifier | null;
  readonly subnets: TrustedSubnets | null;
  readonly knobs: ServerKnobs;
  readonly metrics: Metrics;
  /** Rates and quotas beyond the collections' own (tenant and subject). */
  readonly limits: RequestLimits;
  readonly status: StatusSources;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** A pino logger, or false for no logging (tests). */
  readonly logger: FastifyBaseLogger | false;
  /** Decoded vectors and graph links kept across searches; absent: every search reads them. */
  readonly vectorCache?: VectorCache;
  /** Where the snapshot routes keep snapshot files; absent: those routes answer 501 (uploads still restore). */
  readonly snapshotsDir?: string;
  /** API keys presented in place of tokens; absent: such keys are refused. */
  readonly apiKeys?: DirectApiKeys;
  /** The token endpoint's and issuing keys' parts; absent: those routes answer 501. */
  readonly credentials?: CredentialDeps;
  /** TLS options for a real listener; absent for `inject()` tests. */
  readonly https?: HttpsOptions;
}

/** The native error body. */
export function errorBody(code: ErrorCode, message: string, details?: Readonly<Record<string, unknown>>) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/**
 * Build the fastify app without listening (so tests can `inject()`): authentication in one
 * `onRequest` hook that sets `request.principal`, routes that ask the policy, and one error
 * mapping from codes to statuses.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    ...(deps.logger === false ? { logger: false } : { loggerInstance: deps.logger }),
    // One line per request comes from our onResponse hook, with tenant, subject and outcome.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.knobs.maxRequestBodyBytes,
    // A body that would set an object's prototype is refused, never parsed into one.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // A client that trickles its request is cut off rather than holding a connection (and a
    // graceful shutdown) forever.
    requestTimeout: 30_000,
    // Tenant names are up to 255 bytes, percent-encoded three characters per byte.
    routerOptions: { maxParamLength: 1024 },
    // Strict validation: bad input is refused, never silently stripped or coerced into shape.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
    ...(deps.https === undefined ? {} : { https: deps.https }),
  }) as unknown as FastifyInstance;

  // Overload is refused first, before any work (authorization included), and answered at once.
  const maxInFlight = deps.knobs.maxInFlightRequests ?? Number.POSITIVE_INFINITY;
  let inFlight = 0;
  const counted = new WeakSet<object>();
  const leave = async (request: FastifyRequest) => {
    if (counted.delete(request)) inFlight--;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (inFlight >= maxInFlight) {
      void reply.header('retry-after', '1');
      throw new StrataError('ERR_SERVER_OVERLOADED', `the server is answering ${inFlight} requests, its limit (max_in_flight_requests); retry shortly`);
    }
    inFlight++;
    counted.add(request);
  });
  app.addHook('onResponse', leave);
  app.addHook('onRequestAbort', leave);

  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async request => {
    request.principal = { trusted: false, address: request.ip, token: undefined };
    request.principal = await resolvePrincipal(request, deps.subnets, deps.verifier, deps.apiKeys);
  });

  app.addHook('onResponse', async (request, reply) => {
    const p = request.principal;
    const params = request.params as { tenant?: string } | undefined;
    const tenant = tenantOf(request);
    deps.metrics.request(request.routeOptions.url ?? 'unknown', request.method, reply.statusCode, tenant, reply.elapsedTime / 1000);
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        tenant,
        sub: p?.token?.sub,
        trusted: p?.trusted,
        address: p?.address,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = describeError(err);
    const retryAfter = isStrataError(err) ? err.details?.['retryAfterSeconds'] : undefined;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    deps.metrics.error(request.routeOptions.url ?? 'unknown', body.error.code, status, tenantOf(request));
    if (status === 401 || status === 403) {
      const params = request.params as { tenant?: string } | undefined;
      request.log.warn(
        { reason: body.error.code, address: request.principal?.address ?? request.ip, sub: request.principal?.token?.sub, tenant: params?.tenant },
        'denied',
      );
    } else if (status >= 500) request.log.error({ err }, 'request failed');
    void reply.status(status).send(isQdrantPath(request.url) ? qdrantErrorBody(status, body.error.code, body.error.message, reply.elapsedTime / 1000, body.error.details) : body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const message = `no route ${request.method} ${path}`;
    void reply.status(404).send(isQdrantPath(path) ? qdrantErrorBody(404, 'ERR_ROUTE_NOT_FOUND', message, 0) : errorBody('ERR_ROUTE_NOT_FOUND', message));
  });

  registerNativeRoutes(app, deps);
  registerAdminRoutes(app, deps);
  // Qdrant's UpdateResult carries an operation id; a per-server sequence is what clients see.
  let operationId = 0;
  const nextOperationId = () => ++operationId;
  registerQdrantCollectionRoutes(app, deps, nextOperationId);
  registerQdrantPointRoutes(app, deps, nextOperationId);
  registerQdrantSearchRoutes(app, deps);
  registerQdrantSnapshotRoutes(app, deps);
  registerSnapshotAdminRoutes(app, deps);
  registerCredentialRoutes(app, deps);
  return app;
}

/** The status and body for any error a route or hook threw. */
function describeError(err: unknown): { status: number; body: ReturnType<typeof errorBody> } {
  if (isStrataError(err)) return { status: HTTP_STATUS[err.code], body: errorBody(err.code, err.message, err.details) };
  const e = err as { validation?: unknown; statusCode?: number; code?: string; message?: string };
  if (e.validation !== undefined || e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e instanceof SyntaxError) {
    return { status: 400, body: errorBody('ERR_REQUEST_INVALID', e.message ?? 'invalid request') };
  }
  if (e.code === 'FST_REQ_FILE_TOO_LARGE') return { status: 413, body: errorBody('ERR_REQUEST_TOO_LARGE', 'the snapshot is larger than the server accepts (max_snapshot_upload_bytes); nothing was changed') };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: errorBody('ERR_REQUEST_TOO_LARGE', e.message ?? 'body too large') };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: errorBody('ERR_REQUEST_INVALID', e.message ?? 'invalid request') };
  }
  return { status: 500, body: errorBody('ERR_SERVER_INTERNAL', ERROR_CODES.ERR_SERVER_INTERNAL) };
}


/** The tenant a request names: native routes in the path; Qdrant routes in a header or the token. */
function tenantOf(request: FastifyRequest): string | undefined {
  const params = request.params as { tenant?: string } | undefined;
  const header = request.headers['x-strata-tenant'];
  const token = request.principal?.token;
  return params?.tenant ?? (typeof header === 'string' ? header : undefined) ?? (token?.tenants.length === 1 ? token.tenants[0] : undefined);
}
