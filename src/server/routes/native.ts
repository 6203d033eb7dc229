import type { FastifyInstance } from 'fastify';
import { authorizeTenant, openTenantScope } from '../../auth/policy.js';
import type { AppDeps } from '../app.js';
import { requireTrusted } from '../principal.js';
import { refuseReservedWrites, runTransactBody, TRANSACT_BODY_SCHEMA, type TransactBody } from '../transact-ops.js';
import { AuditLog } from '../audit.js';

/**
 * A request's transaction retries a few times within a few seconds, not the library's 100 times:
 * a client waiting on an answer is better served by a prompt retryable error than a long stall.
 */
const REQUEST_TRANSACTION = { retryLimit: 10, timeoutMs: 10_000 } as const;

const TENANT_PARAMS = {
  type: 'object',
  required: ['tenant'],
  properties: { tenant: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

/** `GET /healthz`, `POST /v1/tenants/{tenant}/transact`, and the trusted raw `POST /v1/transact`. */
export function registerNativeRoutes(app: FastifyInstance, deps: AppDeps): void {
  const audit = new AuditLog(deps.knobs.auditTimeWindowSeconds * 1000, deps.now);

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.post<{ Params: { tenant: string }; Body: TransactBody }>(
    '/v1/tenants/:tenant/transact',
    {
      // Before the body is read: a caller without access to the tenant costs no parsing.
      onRequest: async request => authorizeTenant(request.principal, request.params.tenant, deps.knobs.allowTokenlessTenantAccess),
      schema: { params: TENANT_PARAMS, body: TRANSACT_BODY_SCHEMA },
    },
    async request => {
      const { tenant } = request.params;
      const principal = request.principal;
      const { ops } = request.body;
      // A read-only token's writes are refused as such, in the transaction.
      if (!principal.trusted && principal.token?.access !== 'r') refuseReservedWrites(request.body);
      // A transaction of reads only counts against the read rate; any write makes it a write.
      const kind = ops.every(op => op.op === 'get' || op.op === 'getRange') ? 'read' : 'write';
      const gate = deps.limits.gate(request, tenant);
      const results = await deps.db.transact(async tx => {
        const [scoped, inForce] = await Promise.all([openTenantScope(tx, principal, tenant, deps.now()), gate.inForce(tx)]);
        gate.charge(inForce, { kind, cost: Math.max(1, ops.length) });
        return runTransactBody(scoped, request.body);
      }, REQUEST_TRANSACTION);
      if (principal.token !== undefined && audit.shouldLog(principal.address, tenant, principal.token.jti)) {
        request.log.info({ address: principal.address, tenant, sub: principal.token.sub, jti: principal.token.jti }, 'token accepted');
      }
      return { results, committed: true };
    },
  );

  app.post<{ Body: TransactBody }>(
    '/v1/transact',
    { onRequest: async request => requireTrusted(request.principal), schema: { body: TRANSACT_BODY_SCHEMA } },
    async request => {
    const results = await deps.db.transact(tx => runTransactBody(tx, request.body), REQUEST_TRANSACTION);
    return { results, committed: true };
    },
  );
}
