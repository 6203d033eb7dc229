import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseServeArgs } from '../../src/server/config.js';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { startServe, type RunningServer } from '../../src/server/serve.js';
import { jwks, startProvider, type TestProvider } from '../helpers/idp.js';
import { makeKey, sign, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { call, makeCertificates } from './harness.js';

// `strata serve` with an identity provider and no JWK Set file: it starts while the provider is
// down, reports it in the status, and verifies the provider's tokens once it answers.

const ISSUER = 'https://idp.example.com/';

let certs: DevCertificates;
let removeCerts: () => Promise<void>;
let dir: string;
let removeDir: () => Promise<void>;
let key: TestKey;
let idp: TestProvider;
let server: RunningServer;
let port: number;

beforeAll(async () => {
  ({ good: certs, remove: removeCerts } = await makeCertificates());
  ({ dir, remove: removeDir } = await tempDir('strata-serve-jwks'));
  key = await makeKey('ES256', 'idp-1');
  idp = await startProvider(certs, jwks(key.publicJwk), { listening: false });
  const config = parseServeArgs(
    [
      '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'),
      '--tls-certificate-file', certs.serverCert, '--tls-key-file', certs.serverKey, '--tls-ca-file', certs.caCert,
      '--authorization-jwks-url', idp.url, '--authorization-jwks-issuer', ISSUER, '--authorization-jwks-audience', 'strata',
      '--authorization-jwks-ca-file', certs.caCert, '--knob_jwks_tenants_claim=org',
    ],
    {},
  );
  server = await startServe(config, { logger: pino({ level: 'silent' }) });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server?.close();
  await idp.down();
  await removeCerts();
  await removeDir();
});

const operator = () => ({ cert: certs.operatorCert, key: certs.operatorKey });
const token = (org: unknown) => {
  const now = Math.floor(Date.now() / 1000);
  return sign(key, { iss: ISSUER, aud: 'strata', org, iat: now, nbf: now, exp: now + 600 });
};

it('starts while the provider is down, then accepts its tokens for the tenants its claim names', async () => {
  const status = await call(port, 'GET', '/v1/admin/status', { ca: certs.caCert, client: operator() });
  expect(status.body).toMatchObject({
    identityProviders: [{ url: idp.url, issuer: ISSUER, kids: [], lastReload: null, lastError: expect.stringMatching(/cannot fetch/) }],
  });
  expect((await call(port, 'POST', '/v1/admin/tenants', { ca: certs.caCert, client: operator(), body: { name: 'acme' } })).status).toBe(201);

  await idp.up();
  // The unknown kid makes the server fetch the keys at once (the first miss is not rate limited).
  const body = { ops: [{ op: 'set', key: 'aGVsbG8=', value: 'd29ybGQ=' }] };
  const ok = await call(port, 'POST', '/v1/tenants/acme/transact', { ca: certs.caCert, token: await token('acme'), body });
  expect(ok).toMatchObject({ status: 200, body: { committed: true } });
  const other = await call(port, 'POST', '/v1/tenants/acme/transact', { ca: certs.caCert, token: await token(['globex']), body });
  expect(other).toMatchObject({ status: 403, body: { error: { code: 'ERR_AUTH_TENANT_FORBIDDEN' } } });

  const after = await call(port, 'GET', '/v1/admin/status', { ca: certs.caCert, client: operator() });
  expect(after.body).toMatchObject({ identityProviders: [{ kids: ['idp-1'], lastReload: expect.any(Number), lastError: null }] });
  const metrics = await new Promise<string>((resolve, reject) => {
    const { cert, key: clientKey } = operator();
    const req = request(
      { host: '127.0.0.1', port, path: '/metrics', servername: 'localhost', ca: readFileSync(certs.caCert), cert: readFileSync(cert), key: readFileSync(clientKey), agent: false },
      res => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end();
  });
  expect(metrics).toContain('# TYPE strata_jwks_fetches_total counter');
  expect(metrics).toContain('strata_jwks_fetches_total{result="failed"} 1');
  expect(metrics).toContain('strata_jwks_fetches_total{result="ok"} 1');
});
