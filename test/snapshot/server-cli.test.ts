import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import { openDatabase } from '../../src/kv/open.js';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { claims, makeKey, memoryLogger, sign, writeJwks } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { makeCertificates, startServer, type TestServer } from '../server/harness.js';
import { pointsOf, seedTenant, storeDump, tenantDump } from './fixtures.js';

const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
const strata = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>(resolve =>
    execFile(process.execPath, [bin, ...args], (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })),
  );

describe('strata snapshot and strata backup against a running server (--server, operator certificates)', () => {
  let certs: DevCertificates;
  let removeCerts: () => Promise<void>;
  let server: TestServer;
  let tls: string[];
  let dir: string;
  let remove: () => Promise<void>;
  let token: string;
  beforeAll(async () => {
    ({ good: certs, remove: removeCerts } = await makeCertificates());
    ({ dir, remove } = await tempDir('strata-snapshot-server'));
    const key = await makeKey('ES256', 'snap-cli');
    await writeJwks(join(dir, 'jwks.json'), [key.publicJwk]);
    server = await startServer(certs, { verifier: new TokenVerifier(await KeySet.load(join(dir, 'jwks.json'), { logger: memoryLogger() })) });
    tls = ['--server', `https://localhost:${server.port}`, '--tls-ca-file', certs.caCert, '--tls-certificate-file', certs.operatorCert, '--tls-key-file', certs.operatorKey];
    token = await sign(key, claims(Math.floor(Date.now() / 1000), ['acme']));
    await seedTenant(server.db, 'acme', { points: 150 });
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await removeCerts();
    await remove();
  });

  it('streams a tenant snapshot out and restores it into another tenant, equal point for point', async () => {
    const file = join(dir, 'acme.snapshot');
    const made = await strata(['snapshot', 'create', '--tenant', 'acme', '--output', file, ...tls]);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^Snapshot of tenant `acme' written to .*: 150 points/);
    const restored = await strata(['snapshot', 'restore', file, '--tenant', 'copy', '--json', ...tls]);
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ kind: 'tenant', tenant: 'copy', replaced: false, points: 150, consistent: true });
    expect(restored.stderr).toMatch(/\(100%\)/);
    expect(await tenantDump(server.db, 'copy')).toEqual(await tenantDump(server.db, 'acme'));
  });

  it('snapshots one collection and restores it under another name', async () => {
    const file = join(dir, 'docs.snapshot');
    expect((await strata(['snapshot', 'create', '--tenant', 'acme', '--collection', 'docs', '--output', file, ...tls])).code).toBe(0);
    const restored = await strata(['snapshot', 'restore', file, '--tenant', 'acme', '--collection', 'docs-copy', ...tls]);
    expect(restored.stdout).toBe(`Restored collection \`docs-copy' of tenant \`acme' from ${file}: 150 points (created)\n`);
    expect(await pointsOf(server.db, 'acme', 'docs-copy')).toEqual(await pointsOf(server.db, 'acme', 'docs'));
  });

  it('refuses a corrupt upload with its code, a missing tenant with 404, and token holders (trusted only)', async () => {
    const before = await storeDump(server.db);
    expect((await strata(['snapshot', 'restore', join(dir, 'docs.snapshot'), '--tenant', 'acme', ...tls.slice(0, 2), '--token', token, '--tls-ca-file', certs.caCert])).stderr).toMatch(
      /^strata: ERR_AUTH_TRUSTED_ONLY/m,
    );
    const junk = join(dir, 'junk.snapshot');
    await import('node:fs/promises').then(fs => fs.writeFile(junk, Buffer.alloc(5000, 7)));
    expect((await strata(['snapshot', 'restore', junk, '--tenant', 'acme', ...tls])).stderr).toMatch(/^strata: ERR_SNAPSHOT_INVALID: .*check "magic" at byte 0/m);
    expect((await strata(['snapshot', 'create', '--tenant', 'nobody', '--output', join(dir, 'x.snapshot'), ...tls])).stderr).toMatch(/^strata: ERR_TENANT_NOT_FOUND/m);
    expect(await storeDump(server.db)).toEqual(before);
  });

  it('backs the running server’s whole store up through the server', async () => {
    const out = join(dir, 'backup');
    const run = await strata(['backup', '--output', out, ...tls]);
    expect(run.code).toBe(0);
    const copy = await openDatabase({ dataDir: out });
    try {
      expect(await storeDump(copy)).toEqual(await storeDump(server.db));
    } finally {
      await copy.close();
    }
  });
});
