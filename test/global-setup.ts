import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDevCertificates } from '../src/server/dev-certs.js';

/**
 * Once per run: say which engines the conformance suite covers, and make the certificates that
 * tests of third-party clients use. Qdrant's JavaScript client takes no CA option (its undici agent
 * trusts the system store), so the test CA is handed to the test processes through
 * NODE_EXTRA_CA_CERTS, which Node reads when a process starts: it is set here, before vitest forks
 * its workers, which inherit it.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env['FDB_CLUSTER_FILE']) console.log(`conformance: embedded and FoundationDB (${process.env['FDB_CLUSTER_FILE']})`);
  else console.log('conformance: embedded engine only; FoundationDB skipped: set FDB_CLUSTER_FILE to a cluster file to run it');
  const dir = await mkdtemp(join(tmpdir(), 'strata-test-ca-'));
  const certs = await generateDevCertificates(dir);
  process.env['NODE_EXTRA_CA_CERTS'] = certs.caCert;
  process.env['STRATA_TEST_CERTS_DIR'] = dir;
  return async () => rm(dir, { recursive: true, force: true });
}
