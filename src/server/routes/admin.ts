import type { FastifyInstance, FastifyRequest } from 'fastify';
import { REVOKED_FOREVER, revokeToken } from '../../auth/revocation.js';
import {
  countTenants,
  createTenant,
  deleteTenant,
  listTenants,
  renameTenant,
  requireTenant,
  tenantIdHex,
  type TenantInfo,
} from '../../tenancy/registry.js';
import { setTenantLimits } from '../../tenancy/limits.js';
import { tenantLimitsReport } from '../limits.js';
import { SnapshotFiles } from '../../snapshot/files.js';
import type { AppDeps } from '../app.js';
import { requireTrusted } from '../principal.js';

/** Facts the status route reports that live outside the database. */
export interface StatusSources {
  keySet(): { kids: string[]; lastReload: number | null } | null;
  tokenCache(): { size: number; hits: number; misses: number; hitRate: number } | null;
  throttled(): Array<{ address: string; until: number }>;
  /** The identity providers (`--authorization-jwks-url`): their kids, last good fetch and last error. */
  identityProviders?(): IdentityProviderStatus[];
}

/** One identity provider in the status answer. */
export interface IdentityProviderStatus {
  readonly url: string;
  readonly issuer: string;
  readonly kids: string[];
  /** The last successful fetch, epoch ms; null before the first. */
  readonly lastReload: number | null;
  /** Why the last fetch failed; null when it succeeded. */
  readonly lastError: string | null;
}

const show = (t: TenantInfo) => ({ name: t.name, id: tenantIdHex(t.id) });
const NAME = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const NAME_PARAMS = { type: 'object', required: ['name'], properties: { name: NAME } } as const;

/** The trusted-only administration routes of DESIGN §6. */
export function registerAdminRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { db } = deps;
  // Every route here is for trusted callers; refused before any body is looked at.
  const trustedOnly = { onRequest: [async (request: FastifyRequest) => requireTrusted(request.principal)] };

  app.post<{ Body: { name: string } }>(
    '/v1/admin/tenants',
    { ...trustedOnly, schema: { body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: NAME } } } },
    async (request, reply) => {
      const tenant = await db.transact(tx => createTenant(tx, request.body.name));
      return reply.status(201).send(show(tenant));
    },
  );

  app.get<{ Querystring: { begin?: string; end?: string; limit?: string } }>(
    '/v1/admin/tenants',
    {
      ...trustedOnly,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { begin: { type: 'string' }, end: { type: 'string' }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$|^10000$' } },
        },
      },
    },
    async request => {
      const { begin, end, limit } = request.query;
      const options = { ...(begin === undefined ? {} : { begin }), ...(end === undefined ? {} : { end }), ...(limit === undefined ? {} : { limit: Number(limit) }) };
      const { tenants, more } = await db.transact(tx => listTenants(tx, options));
      return { tenants: tenants.map(show), more };
    },
  );

  app.get<{ Params: { name: string } }>('/v1/admin/tenants/:name', { ...trustedOnly, schema: { params: NAME_PARAMS } }, async request =>
    show(await db.transact(tx => requireTenant(tx, request.params.name))),
  );

  app.delete<{ Params: { name: string }; Querystring: { force?: 'true' | 'false' } }>(
    '/v1/admin/tenants/:name',
    {
      ...trustedOnly,
      schema: { params: NAME_PARAMS, querystring: { type: 'object', additionalProperties: false, properties: { force: { enum: ['true', 'false'] } } } },
    },
    async request => {
      const tenant = await db.transact(tx => deleteTenant(tx, request.params.name, { force: request.query.force === 'true' }));
      if (deps.snapshotsDir !== undefined) await new SnapshotFiles(deps.snapshotsDir).forgetTenant(tenant.id);
      return show(tenant);
    },
  );

  app.post<{ Params: { name: string }; Body: { to: string } }>(
    '/v1/admin/tenants/:name/rename',
    {
      ...trustedOnly,
      schema: { params: NAME_PARAMS, body: { type: 'object', additionalProperties: false, required: ['to'], properties: { to: NAME } } },
    },
    async request => show(await db.transact(tx => renameTenant(tx, request.params.name, request.body.to))),
  );

  // A tenant's own limits over the server's defaults, with what is in force and what it holds.
  app.get<{ Params: { name: string } }>('/v1/admin/tenants/:name/limits', { ...trustedOnly, schema: { params: NAME_PARAMS } }, async request =>
    db.transact(tx => tenantLimitsReport(tx, request.params.name, deps.limits)),
  );
  app.put<{ Params: { name: string } }>('/v1/admin/tenants/:name/limits', { ...trustedOnly, schema: { params: NAME_PARAMS, body: { type: 'object' } } }, async request =>
    db.transact(async tx => {
      await requireTenant(tx, request.params.name);
      await setTenantLimits(tx, request.params.name, request.body);
      return tenantLimitsReport(tx, request.params.name, deps.limits);
    }),
  );

  app.post<{ Body: { jti: string; exp?: number } }>(
    '/v1/admin/tokens/revoke',
    {
      ...trustedOnly,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['jti'],
          properties: { jti: { type: 'string', minLength: 1, maxLength: 1024 }, exp: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
        },
      },
    },
    async request => {
      // Without the token's exp the revocation is kept for good: a token may live arbitrarily long.
      const exp = request.body.exp ?? REVOKED_FOREVER;
      await db.transact(async tx => revokeToken(tx, request.body.jti, exp));
      return { jti: request.body.jti, revoked: true, until: exp === REVOKED_FOREVER ? null : exp };
    },
  );

  app.get('/v1/admin/status', trustedOnly, async () => ({
    engine: db.engine,
    tenants: await db.transact(tx => countTenants(tx)),
    keySet: deps.status.keySet(),
    tokenCache: deps.status.tokenCache(),
    throttled: deps.status.throttled(),
    identityProviders: deps.status.identityProviders?.() ?? [],
  }));

  app.get('/metrics', trustedOnly, async (_request, reply) => {
    return reply.type(deps.metrics.contentType).send(await deps.metrics.render());
  });
}

