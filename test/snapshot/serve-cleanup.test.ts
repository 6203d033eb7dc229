import { join } from 'node:path';
import pino from 'pino';
import { expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import { RESTORE_MARKERS, tenantPrefix } from '../../src/tenancy/layout.js';
import { claimTenantId } from '../../src/snapshot/claims.js';
import { parseServeArgs } from '../../src/server/config.js';
import { startServe } from '../../src/server/serve.js';
import { tempDir } from '../helpers/tmp.js';
import { makeCertificates } from '../server/harness.js';

it('a starting server removes what a restore that died just before left behind (the embedded store is its alone)', async () => {
  const { dir, remove } = await tempDir('strata-serve-cleanup');
  const { good: certs, remove: removeCerts } = await makeCertificates();
  try {
    const data = join(dir, 'data');
    let db = await openDatabase({ dataDir: data });
    const claim = await claimTenantId(db, 'ghost', Date.now);
    const orphan = Buffer.concat([tenantPrefix(claim.tenantId), Buffer.from('half-written')]);
    await db.transact(async tx => tx.set(orphan, Buffer.from('x')));
    await db.close();

    const config = parseServeArgs(
      ['--listen', '127.0.0.1:0', '--data-dir', data, '--tls-certificate-file', certs.serverCert, '--tls-key-file', certs.serverKey, '--tls-ca-file', certs.caCert],
      {},
    );
    // At once: the dead restore's heartbeat is fresh, but no other process can be restoring.
    const server = await startServe(config, { logger: pino({ level: 'silent' }) });
    await server.close();

    db = await openDatabase({ dataDir: data });
    try {
      const { begin, end } = RESTORE_MARKERS.range();
      expect((await db.transact(tx => tx.getRange(begin, end))).kvs).toEqual([]);
      expect(await db.transact(tx => tx.get(orphan))).toBeUndefined();
    } finally {
      await db.close();
    }
  } finally {
    await removeCerts();
    await remove();
  }
}, 60_000);
