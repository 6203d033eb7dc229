import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { claims, makeKey, sign } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { call, makeCertificates, startServer, type TestServer } from '../server/harness.js';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import { writeJwks } from '../helpers/jwt.js';

const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
const strata = (args: string[], cwd?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>(resolve =>
    execFile(process.execPath, [bin, ...args], { ...(cwd === undefined ? {} : { cwd }) }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    ),
  );

describe('the CLI against a server over mutual TLS', () => {
  let certs: DevCertificates;
  let removeCerts: () => Promise<void>;
  let server: TestServer;
  let tls: string[];
  let url: string;
  let token: string;
  let removeDir: () => Promise<void>;
  beforeAll(async () => {
    ({ good: certs, remove: removeCerts } = await makeCertificates());
    const t = await tempDir('strata-cli-server');
    removeDir = t.remove;
    const key = await makeKey('ES256', 'cli');
    await writeJwks(join(t.dir, 'jwks.json'), [key.publicJwk]);
    const keySet = await KeySet.load(join(t.dir, 'jwks.json'), { logger: { warn: () => {}, error: () => {} } });
    server = await startServer(certs, { verifier: new TokenVerifier(keySet) });
    url = `https://localhost:${server.port}`;
    tls = ['--server', url, '--tls-ca-file', certs.caCert, '--tls-certificate-file', certs.operatorCert, '--tls-key-file', certs.operatorKey];
    token = await sign(key, { ...claims(Math.floor(Date.now() / 1000), ['acme']), jti: 'cli-jti' });
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await removeCerts();
    await removeDir();
  });

  it('manages tenants and keys as an operator', async () => {
    expect((await strata(['tenant', 'create', 'acme', ...tls])).stdout).toBe("The tenant `acme' has been created with id 0000000000000001\n");
    expect(JSON.parse((await strata(['tenant', 'list', '--json', ...tls])).stdout)).toEqual({ tenants: [{ name: 'acme', id: '0000000000000001' }], more: false });
    expect((await strata(['kv', 'set', '--tenant', 'acme', 'k', 'v', ...tls])).code).toBe(0);
    expect((await strata(['kv', 'get', '--tenant', 'acme', 'k', ...tls])).stdout).toBe("`k' is `v'\n");
  });

  it('calls as an untrusted token holder with --token, and is refused where the token does not reach', async () => {
    const asHolder = ['--server', url, '--tls-ca-file', certs.caCert, '--token', token];
    expect((await strata(['kv', 'get', '--tenant', 'acme', 'k', ...asHolder])).stdout).toBe("`k' is `v'\n");
    const admin = await strata(['tenant', 'list', ...asHolder]);
    expect(admin).toMatchObject({ code: 1, stderr: 'strata: ERR_AUTH_TRUSTED_ONLY: this route is for trusted callers (mutual TLS) only\n' });
  });

  it('shows and sets a tenant’s limits with strata tenant limits, for operators only', async () => {
    expect((await strata(['tenant', 'limits', 'acme', ...tls])).stdout).toBe(
      'tenant: acme\nread_rate_limit: unlimited (server default)\nwrite_rate_limit: unlimited (server default)\nmax_points: unlimited (server default)\nmax_bytes: unlimited (server default)\npoints: 0\nbytes: 0\n',
    );
    const set = await strata(['tenant', 'limits', 'acme', '--write-rate', '600', '--max-points', '1000', '--json', ...tls]);
    expect(JSON.parse(set.stdout)).toEqual({
      name: 'acme',
      limits: { write_rate_limit: 600, max_points: 1000 },
      in_force: { read_rate_limit: 0, write_rate_limit: 600, max_points: 1000, max_bytes: 0 },
      usage: { points: 0, bytes: 0 },
    });
    expect((await strata(['tenant', 'limits', 'acme', '--max-points', 'default', ...tls])).stdout).toContain('write_rate_limit: 600\nmax_points: unlimited (server default)\n');
    expect(await strata(['tenant', 'limits', 'acme', '--max-points', 'lots', ...tls])).toMatchObject({ code: 2, stderr: expect.stringContaining('ERR_CLI_INVALID_ARGUMENT') });
    expect(await strata(['tenant', 'limits', 'nobody', ...tls])).toMatchObject({ code: 1, stderr: expect.stringContaining('ERR_TENANT_NOT_FOUND') });
    // A token holder may neither read nor change them, even for its own tenant.
    const reply = await call(server.port, 'PUT', '/v1/admin/tenants/acme/limits', { ca: certs.caCert, token, body: { max_points: 0 } });
    expect(reply).toMatchObject({ status: 403, body: { error: { code: 'ERR_AUTH_TRUSTED_ONLY' } } });
    const bad = await call(server.port, 'PUT', '/v1/admin/tenants/acme/limits', { ca: certs.caCert, client: { cert: certs.operatorCert, key: certs.operatorKey }, body: { max_points: 'many' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'ERR_REQUEST_INVALID' } } });
    expect(JSON.parse((await strata(['tenant', 'limits', 'acme', '--json', ...tls])).stdout).limits).toEqual({ write_rate_limit: 600 });
  });

  it('revokes a token with strata token revoke, after which the server refuses it', async () => {
    expect((await strata(['token', 'revoke', '--jti', 'cli-jti', ...tls])).code).toBe(0);
    const reply = await call(server.port, 'POST', '/v1/tenants/acme/transact', { ca: certs.caCert, token, body: { ops: [] } });
    expect(reply).toMatchObject({ status: 401, body: { error: { code: 'ERR_AUTH_TOKEN_REVOKED' } } });
  });

  it('makes development certificates with strata certs generate, refusing to overwrite them', async () => {
    const { dir, remove } = await tempDir('strata-certs-cli');
    try {
      const made = await strata(['certs', 'generate', '--dir', join(dir, 'c')]);
      expect(made.code).toBe(0);
      for (const f of ['ca.pem', 'server.pem', 'server.key', 'operator.pem', 'operator.key']) expect(existsSync(join(dir, 'c', f))).toBe(true);
      expect((await strata(['certs', 'generate', '--dir', join(dir, 'c')])).code).toBe(2);
    } finally {
      await remove();
    }
  });

  it('says which server it could not reach', async () => {
    const run = await strata(['tenant', 'list', '--server', 'https://127.0.0.1:1', '--tls-ca-file', certs.caCert]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^strata: ERR_CLIENT_CONNECTION_FAILED: cannot reach https:\/\/127\.0\.0\.1:1/);
  });
});
