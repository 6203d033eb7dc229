import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiKeyIdOf, createApiKey, listApiKeys, revokeApiKey, rotateApiKey, viewOf } from '../../auth/apikeys.js';
import { exchangeApiKey, exchangeRefreshToken, type ExchangeDeps } from '../../auth/exchange.js';
import { rotateIssuingKey, type IssuingKeys } from '../../auth/issuing-keys.js';
import { StrataError } from '../../errors.js';
import type { AppDeps } from '../app.js';
import type { AuthFailureThrottle } from '../auth-failures.js';
import { requireTrusted } from '../principal.js';

/** What the credential routes need beyond the app's deps (absent: they answer 501). */
export interface CredentialDeps {
  readonly issuing: IssuingKeys;
  readonly exchange: ExchangeDeps;
  readonly failures: AuthFailureThrottle;
}

const ID = { type: 'string', pattern: '^[0-9a-f]{16}$' } as const;
const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: ID } } as const;
const TENANTS = { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 1024 } } as const;

interface CreateBody {
  name: string;
  tenants: string[];
  access?: unknown;
  ttl_seconds?: number;
}

type TokenBody =
  | { grant_type: 'api_key'; api_key: string; tenants?: string[]; access?: unknown }
  | { grant_type: 'refresh_token'; refresh_token: string };

/**
 * Credentials (DESIGN §6): API keys that operators issue, rotate and revoke; the token endpoint
 * that exchanges a key or a refresh token for a short-lived access token; the issuing keys' public
 * halves; and the rotation of the issuing key.
 */
export function registerCredentialRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { db } = deps;
  const trustedOnly = { onRequest: [async (request: FastifyRequest) => requireTrusted(request.principal)] };
  const credentials = (): CredentialDeps => {
    if (deps.credentials === undefined) throw new StrataError('ERR_FEATURE_UNSUPPORTED', 'this server issues no tokens (no issuing key is configured)');
    return deps.credentials;
  };

  app.post<{ Body: CreateBody }>(
    '/v1/admin/apikeys',
    {
      ...trustedOnly,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'tenants'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, tenants: TENANTS, access: {}, ttl_seconds: { type: 'integer', minimum: 1 } },
        },
      },
    },
    async (request, reply) => {
      const { name, tenants, access, ttl_seconds } = request.body;
      const { record, key } = await db.transact(tx =>
        createApiKey(tx, { name, tenants, ...(access === undefined ? {} : { access }), ...(ttl_seconds === undefined ? {} : { ttlSeconds: ttl_seconds }) }, deps.now()),
      );
      const view = viewOf(record);
      return reply.status(201).send({ id: record.id, key, expires_at: view.expires_at, name: view.name, tenants: view.tenants, ...(view.access === undefined ? {} : { access: view.access }), created_at: view.created_at });
    },
  );

  app.get('/v1/admin/apikeys', trustedOnly, async () => ({ apikeys: await db.transact(tx => listApiKeys(tx)) }));

  app.post<{ Params: { id: string }; Body: { grace_seconds?: number } | undefined }>(
    '/v1/admin/apikeys/:id/rotate',
    {
      ...trustedOnly,
      schema: { params: ID_PARAMS, body: { type: ['object', 'null'], additionalProperties: false, properties: { grace_seconds: { type: 'integer', minimum: 0 } } } },
    },
    async request => {
      const grace = request.body?.grace_seconds;
      const { record, key } = await db.transact(tx => rotateApiKey(tx, request.params.id, deps.now(), ...(grace === undefined ? [] : [grace])));
      const view = viewOf(record);
      return { id: record.id, key, ...(view.previous_secret_until === undefined ? {} : { previous_secret_until: view.previous_secret_until }) };
    },
  );

  app.delete<{ Params: { id: string } }>('/v1/admin/apikeys/:id', { ...trustedOnly, schema: { params: ID_PARAMS } }, async request => {
    const record = await db.transact(tx => revokeApiKey(tx, request.params.id));
    return { id: record.id, revoked: true };
  });

  app.post<{ Body: TokenBody }>(
    '/v1/auth/token',
    {
      schema: {
        body: {
          oneOf: [
            {
              type: 'object',
              additionalProperties: false,
              required: ['grant_type', 'api_key'],
              properties: { grant_type: { const: 'api_key' }, api_key: { type: 'string', minLength: 1, maxLength: 200 }, tenants: TENANTS, access: {} },
            },
            {
              type: 'object',
              additionalProperties: false,
              required: ['grant_type', 'refresh_token'],
              properties: { grant_type: { const: 'refresh_token' }, refresh_token: { type: 'string', minLength: 1, maxLength: 200 } },
            },
          ],
        },
      },
    },
    async (request, reply) => {
      const c = credentials();
      const body = request.body;
      const address = request.principal.address;
      const keyId = body.grant_type === 'api_key' ? apiKeyIdOf(body.api_key) : undefined;
      const answer = await c.failures.attempt(address, keyId, ['ERR_AUTH_APIKEY_INVALID', 'ERR_AUTH_REFRESH_INVALID', 'ERR_AUTH_REFRESH_REUSED'], () =>
        body.grant_type === 'api_key'
          ? exchangeApiKey(c.exchange, body.api_key, { ...(body.tenants === undefined ? {} : { tenants: body.tenants }), ...(body.access === undefined ? {} : { access: body.access }) })
          : exchangeRefreshToken(c.exchange, body.refresh_token),
      );
      // Tokens are credentials: never cached by a proxy (RFC 6749 §5.1).
      void reply.header('cache-control', 'no-store');
      return answer;
    },
  );

  app.get('/.well-known/jwks.json', async () => credentials().issuing.publicJwks());

  app.post('/v1/admin/keys/rotate', trustedOnly, async () => {
    const c = credentials();
    const rotated = await rotateIssuingKey(db, deps.now());
    await c.issuing.reload();
    return rotated;
  });
}
