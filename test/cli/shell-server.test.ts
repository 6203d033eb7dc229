import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { makeCertificates, startServer, type TestServer } from '../server/harness.js';

// `strata cli --server`: the built command against a real HTTPS listener, as an operator (mTLS).

const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
const strata = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>(resolve =>
    execFile(process.execPath, [bin, ...args], (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    ),
  );

describe('strata cli against a server over mutual TLS', () => {
  let certs: DevCertificates;
  let removeCerts: () => Promise<void>;
  let server: TestServer;
  let tls: string[];
  beforeAll(async () => {
    ({ good: certs, remove: removeCerts } = await makeCertificates());
    server = await startServer(certs);
    tls = ['--server', `https://localhost:${server.port}`, '--tls-ca-file', certs.caCert, '--tls-certificate-file', certs.operatorCert, '--tls-key-file', certs.operatorKey];
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await removeCerts();
  });

  it('sets and gets keys in a tenant, lists tenants and reports status through the server', async () => {
    const run = await strata(['cli', ...tls, '--exec', 'writemode on; tenant create acme; usetenant acme; set k "v 1"; get k; defaulttenant; get k; tenant list; status']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain("The tenant `acme' has been created with id 0000000000000001\n");
    expect(run.stdout).toContain(">>> get k\n`k' is `v 1'\n>>> defaulttenant\nUsing the default tenant\n>>> get k\n`k': not found\n");
    expect(run.stdout).toContain('>>> tenant list\n  1. acme\t(id 0000000000000001)\n');
    expect(run.stdout).toContain(`>>> status\nEngine: embedded (https://localhost:${server.port})\nTenants: 1\n`);
    // Written on the server: its own database holds the key in the tenant.
    expect((await strata(['cli', ...tls, '--exec', 'usetenant acme; getrange ""'])).stdout).toContain("`k' is `v 1'");
  });

  it('prints the server’s refusal with its code and exits 1', async () => {
    const run = await strata(['cli', ...tls, '--exec', 'usetenant ghost']);
    expect(run).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ERROR: ERR_TENANT_NOT_FOUND: /) });
    const writes = await strata(['cli', ...tls, '--exec', 'set k v']);
    expect(writes).toMatchObject({ code: 1, stderr: 'ERROR: writemode must be enabled to set or clear keys in the database.\n' });
  });
});
