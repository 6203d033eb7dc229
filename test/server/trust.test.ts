import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTenant } from '../../src/tenancy/registry.js';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { call, makeCertificates, startServer, type TestServer } from './harness.js';

/**
 * Trust through a real TLS listener: mutual TLS makes an operator; no certificate makes an
 * untrusted caller; a certificate that does not verify closes the connection and throttles the
 * address; trusted subnets narrow trust; a resumed session is not trusted by accident.
 */
describe('trust over TLS', () => {
  let good: DevCertificates;
  let rogue: DevCertificates;
  let removeCerts: () => Promise<void>;
  beforeAll(async () => ({ good, rogue, remove: removeCerts } = await makeCertificates()), 60_000);
  afterAll(async () => removeCerts());

  const operator = () => ({ cert: good.operatorCert, key: good.operatorKey });

  describe('default server', () => {
    let server: TestServer;
    beforeAll(async () => (server = await startServer(good)));
    afterAll(async () => server.close());

    it('answers /healthz to anyone', async () => {
      expect(await call(server.port, 'GET', '/healthz', { ca: good.caCert })).toMatchObject({ status: 200, body: { status: 'ok' } });
    });

    it('lets an operator with a certificate from the CA manage tenants', async () => {
      const created = await call(server.port, 'POST', '/v1/admin/tenants', { ca: good.caCert, client: operator(), body: { name: 'acme' } });
      expect(created).toMatchObject({ status: 201, body: { name: 'acme', id: '0000000000000001' } });
      const listed = await call(server.port, 'GET', '/v1/admin/tenants', { ca: good.caCert, client: operator() });
      expect(listed.body).toEqual({ tenants: [{ name: 'acme', id: '0000000000000001' }], more: false });
    });

    it.each([
      ['POST', '/v1/admin/tenants', { name: 'evil' }],
      ['GET', '/v1/admin/tenants', undefined],
      ['GET', '/v1/admin/tenants/acme', undefined],
      ['DELETE', '/v1/admin/tenants/acme?force=true', undefined],
      ['POST', '/v1/admin/tenants/acme/rename', { to: 'evil' }],
      ['POST', '/v1/admin/tokens/revoke', { jti: 'x' }],
      ['GET', '/v1/admin/status', undefined],
      ['GET', '/metrics', undefined],
      ['POST', '/v1/transact', { ops: [{ op: 'set', key: 'AA==', value: 'AA==' }] }],
    ])('refuses an untrusted caller on %s %s with 403 ERR_AUTH_TRUSTED_ONLY, changing nothing', async (method, path, body) => {
      const reply = await call(server.port, method, path, { ca: good.caCert, ...(body === undefined ? {} : { body }) });
      expect(reply).toMatchObject({ status: 403, body: { error: { code: 'ERR_AUTH_TRUSTED_ONLY' } } });
      expect(await server.db.transact(tx => getTenant(tx, 'acme'))).toBeDefined();
      expect(await server.db.transact(tx => getTenant(tx, 'evil'))).toBeUndefined();
      expect(await server.db.transact(tx => tx.get(Uint8Array.of(0)))).toBeUndefined();
    });

    it('reports status and metrics to the operator', async () => {
      const status = await call(server.port, 'GET', '/v1/admin/status', { ca: good.caCert, client: operator() });
      expect(status).toMatchObject({ status: 200, body: { engine: 'embedded', tenants: 1, throttled: [] } });
      const metrics = await new Promise<string>((resolve, reject) => {
        import('node:https').then(({ request }) => {
          const req = request(
            { host: '127.0.0.1', port: server.port, path: '/metrics', servername: 'localhost', ca: readFileSync(good.caCert), cert: readFileSync(good.operatorCert), key: readFileSync(good.operatorKey) },
            res => {
              let text = '';
              res.on('data', c => (text += c));
              res.on('end', () => resolve(text));
            },
          );
          req.on('error', reject);
          req.end();
        }, reject);
      });
      expect(metrics).toContain('# TYPE strata_http_requests_total counter');
      expect(metrics).toMatch(/strata_http_requests_total\{route="\/v1\/admin\/tenants",method="POST",status="201",tenant="none"\} 1/);
      expect(metrics).toMatch(/strata_auth_denied_total\{reason="ERR_AUTH_TRUSTED_ONLY"\} \d+/);
      expect(metrics).toContain('# TYPE strata_http_request_duration_seconds histogram');
      expect(metrics).toMatch(/strata_http_errors_total\{route="[^"]+",code="ERR_AUTH_TRUSTED_ONLY",tenant="[^"]+"\} \d+/);
      // Prometheus text format: every line a comment or `name{labels} value`.
      for (const line of metrics.trim().split('\n').filter(l => l !== '')) {
        expect(line).toMatch(/^(# (HELP|TYPE) [a-z_:][a-z0-9_:]* .*|[a-z_:][a-z0-9_:]*(\{([a-z_][a-z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? -?[0-9.e+-]+|[a-z_:][a-z0-9_:]*(\{.*\})? (\+Inf|NaN))$/i);
      }
    });

    it('asks an untrusted caller without a token for one on tenant routes (401 ERR_AUTH_TOKEN_MISSING)', async () => {
      const reply = await call(server.port, 'POST', '/v1/tenants/acme/transact', { ca: good.caCert, body: { ops: [{ op: 'get', key: 'AA==' }] } });
      expect(reply).toMatchObject({ status: 401, body: { error: { code: 'ERR_AUTH_TOKEN_MISSING' } } });
    });

    it('does not trust a resumed TLS session that presented no certificate', async () => {
      const agent = new Agent({ keepAlive: false, maxCachedSessions: 10 });
      try {
        await call(server.port, 'GET', '/healthz', { ca: good.caCert, agent });
        // TLS 1.3 tickets arrive after the handshake; give the client a moment to store one.
        await new Promise(resolve => setTimeout(resolve, 50));
        const resumed = await call(server.port, 'POST', '/v1/admin/tenants', { ca: good.caCert, agent, body: { name: 'resumed' } });
        expect(resumed.resumed, 'the second connection must actually resume the session').toBe(true);
        expect(resumed).toMatchObject({ status: 403, body: { error: { code: 'ERR_AUTH_TRUSTED_ONLY' } } });
        expect(await server.db.transact(tx => getTenant(tx, 'resumed'))).toBeUndefined();
      } finally {
        agent.destroy();
      }
    });
  });

  describe('a client certificate that does not verify', () => {
    let server: TestServer;
    beforeAll(async () => (server = await startServer(good, { throttleSeconds: 60 })));
    afterAll(async () => server.close());

    it('closes the connection before the request is handled, and throttles the address', async () => {
      const rogueClient = { cert: rogue.operatorCert, key: rogue.operatorKey };
      await expect(call(server.port, 'POST', '/v1/admin/tenants', { ca: good.caCert, client: rogueClient, body: { name: 'rogue' } })).rejects.toThrow();
      expect(await server.db.transact(tx => getTenant(tx, 'rogue'))).toBeUndefined();
      expect(server.throttle.badCertificates).toBe(1);
      // From the same address, even a valid operator is now closed at once, and counted.
      await expect(call(server.port, 'GET', '/healthz', { ca: good.caCert, client: operator() })).rejects.toThrow();
      expect(server.throttle.refused).toBeGreaterThanOrEqual(1);
      expect(server.throttle.throttled().map(t => t.address)).toEqual(['127.0.0.1']);
    });
  });

  describe('with trusted subnets', () => {
    let server: TestServer;
    beforeAll(async () => (server = await startServer(good, { subnets: [['office', '10.0.0.0/8'], ['v6', 'fd00::/8']] })));
    afterAll(async () => server.close());

    it('treats a valid operator certificate from outside the subnets as untrusted', async () => {
      const reply = await call(server.port, 'POST', '/v1/admin/tenants', { ca: good.caCert, client: operator(), body: { name: 'outsider' } });
      expect(reply).toMatchObject({ status: 403, body: { error: { code: 'ERR_AUTH_TRUSTED_ONLY' } } });
      expect(await server.db.transact(tx => getTenant(tx, 'outsider'))).toBeUndefined();
    });
  });

  describe('with a trusted subnet that holds the caller', () => {
    let server: TestServer;
    beforeAll(async () => (server = await startServer(good, { subnets: [['loopback', '127.0.0.0/8']] })));
    afterAll(async () => server.close());

    it('trusts the operator', async () => {
      const reply = await call(server.port, 'POST', '/v1/admin/tenants', { ca: good.caCert, client: operator(), body: { name: 'insider' } });
      expect(reply.status).toBe(201);
    });
  });
});
