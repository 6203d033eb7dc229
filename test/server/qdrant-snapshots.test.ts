import { QdrantClient } from '@qdrant/js-client-rest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import { devCertificatePaths, type DevCertificates } from '../../src/server/dev-certs.js';
import { claims, makeKey, memoryLogger, sign, writeJwks, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { call, startServer, type TestServer } from './harness.js';

/**
 * Qdrant's collection snapshot routes through Qdrant's own client (1.18) against a TLS listener:
 * create, list, download, recover from an upload and from a file, delete; and who may do it.
 */

interface Raw {
  status: number;
  body: Buffer;
}

describe('Qdrant collection snapshots', () => {
  let certs: DevCertificates;
  let server: TestServer;
  let key: TestKey;
  let removeDir: () => Promise<void>;
  let client: QdrantClient;
  let token: string;
  let jwks: string;
  const now = () => Math.floor(Date.now() / 1000);

  /** One HTTPS request with a token; the body raw. */
  function raw(method: string, path: string, options: { token: string; body?: Buffer; contentType?: string; port?: number }): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: options.port ?? server.port,
          method,
          path,
          servername: 'localhost',
          ca: readFileSync(certs.caCert),
          agent: false,
          headers: { authorization: `Bearer ${options.token}`, ...(options.contentType === undefined ? {} : { 'content-type': options.contentType }) },
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  }

  /** Upload `file` as the multipart field `field`, as Qdrant's upload route takes it. */
  function upload(collection: string, file: Buffer, options: { token: string; field?: string; query?: string; port?: number }): Promise<{ status: number; body: Record<string, unknown> }> {
    const boundary = '----strata-test-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${options.field ?? 'snapshot'}"; filename="s.snapshot"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    return raw('POST', `/collections/${collection}/snapshots/upload${options.query ?? ''}`, { token: options.token, body, contentType: `multipart/form-data; boundary=${boundary}`, ...(options.port === undefined ? {} : { port: options.port }) }).then(r => ({
      status: r.status,
      body: JSON.parse(r.body.toString()) as Record<string, unknown>,
    }));
  }

  const points = async (name: string) => (await client.scroll(name, { limit: 100, with_payload: true, with_vector: true })).points;
  const operator = () => ({ ca: certs.caCert, client: { cert: certs.operatorCert, key: certs.operatorKey } });
  const mint = (tenants: string[], extra: Record<string, unknown> = {}) => sign(key, { ...claims(now(), tenants), ...extra });

  beforeAll(async () => {
    certs = devCertificatePaths(process.env['STRATA_TEST_CERTS_DIR'] as string);
    const t = await tempDir('strata-qdrant-snapshots');
    removeDir = t.remove;
    key = await makeKey('ES256', 'snap-1');
    jwks = join(t.dir, 'jwks.json');
    await writeJwks(jwks, [key.publicJwk]);
    server = await startServer(certs, { verifier: new TokenVerifier(await KeySet.load(jwks, { logger: memoryLogger() })) });
    for (const name of ['saas', 'other']) expect((await call(server.port, 'POST', '/v1/admin/tenants', { ...operator(), body: { name } })).status).toBe(201);
    token = await mint(['saas']);
    client = new QdrantClient({ url: `https://localhost:${server.port}`, apiKey: token });
    await client.createCollection('docs', { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: { m: 8, full_scan_threshold: 1 } });
    await client.createPayloadIndex('docs', { field_name: 'city', field_schema: 'keyword', wait: true });
    const cities = ['Berlin', 'Paris', 'Oslo'];
    await client.upsert('docs', { wait: true, points: Array.from({ length: 60 }, (_, i) => ({ id: i + 1, vector: [Math.cos(i), Math.sin(i), i % 3, 1], payload: { city: cities[i % 3] as string, n: i } })) });
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await removeDir();
  });

  let name: string;
  let file: Buffer;

  it('creates a snapshot and lists it, in Qdrant’s shape, with its SHA-256', async () => {
    const made = await client.createSnapshot('docs', { wait: true });
    expect(made).toMatchObject({ name: expect.stringMatching(/^docs-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot$/), size: expect.any(Number), checksum: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(made?.creation_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    name = made!.name;
    expect(await client.listSnapshots('docs')).toEqual([made]);
    const second = await client.createSnapshot('docs');
    expect(second?.name).not.toBe(name);
    expect(await client.listSnapshots('docs')).toHaveLength(2);
    expect(await client.deleteSnapshot('docs', second!.name)).toBe(true);

    const got = await raw('GET', `/collections/docs/snapshots/${encodeURIComponent(name)}`, { token });
    expect(got.status).toBe(200);
    file = got.body;
    expect(file.length).toBe(made?.size);
    expect(createHash('sha256').update(file).digest('hex')).toBe(made?.checksum);
  });

  it('recovers a collection from an upload (multipart field `snapshot`), point for point, replacing what changed', async () => {
    const before = await points('docs');
    const query = { query: [1, 0, 0, 1], limit: 5, filter: { must: [{ key: 'city', match: { value: 'Paris' } }] } };
    const found = await client.query('docs', query);
    await client.delete('docs', { wait: true, points: [1, 2, 3] });
    await client.setPayload('docs', { wait: true, payload: { city: 'Rome' }, points: [4] });
    const checksum = createHash('sha256').update(file).digest('hex');
    expect(await upload('docs', file, { token, query: `?priority=snapshot&checksum=${checksum}&wait=true` })).toMatchObject({ status: 200, body: { result: true, status: 'ok' } });
    expect(await points('docs')).toEqual(before);
    expect(await client.query('docs', query)).toEqual(found);
    expect((await client.getCollection('docs')).payload_schema['city']).toMatchObject({ data_type: 'keyword', points: 60 });

    // Into a collection that does not exist: created.
    expect((await upload('copy', file, { token })).status).toBe(200);
    expect(await points('copy')).toEqual(before);
  });

  it('recovers from a snapshot file of the tenant’s own (file:// location), and fetches no URL', async () => {
    expect(await client.recoverSnapshot('from-file', { location: `file:///qdrant/snapshots/docs/${name}` })).toBe(true);
    expect(await points('from-file')).toEqual(await points('docs'));
    await expect(client.recoverSnapshot('from-url', { location: `https://example.com/collections/docs/snapshots/${name}` })).rejects.toMatchObject({ status: 501 });
    for (const location of ['file://%zz', 'file://[bad'])
      await expect(client.recoverSnapshot('from-file', { location })).rejects.toMatchObject({ status: 400 });
    // A collection name of 255 bytes still snapshots (its file name is cut to fit).
    const long = 'l'.repeat(255);
    await client.createCollection(long, { vectors: { size: 4, distance: 'Dot' } });
    expect((await client.createSnapshot(long))?.name).toMatch(/^l+-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot$/);
    await client.deleteCollection(long);
  });

  it('refuses corrupt, truncated and foreign uploads with a code, leaving the collection as it was', async () => {
    const before = await points('docs');
    const bad = Buffer.from(file);
    const at = Math.floor(bad.length / 2);
    bad[at] = (bad[at] as number) ^ 0xff;
    const refused = [
      await upload('docs', bad, { token }),
      await upload('docs', file.subarray(0, file.length - 20), { token }),
      await upload('docs', Buffer.from('hello'), { token }),
      await upload('docs', file, { token, query: `?checksum=${'0'.repeat(64)}` }),
    ];
    for (const r of refused) expect(r).toMatchObject({ status: 400, body: { status: { code: 'ERR_SNAPSHOT_INVALID' } } });
    expect(await upload('docs', file, { token, field: 'file' })).toMatchObject({ status: 400, body: { status: { code: 'ERR_REQUEST_INVALID' } } });
    // A tenant snapshot is not a collection snapshot.
    const tenantFile = await new Promise<Buffer>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/v1/admin/tenants/saas/snapshot',
          servername: 'localhost',
          ca: readFileSync(certs.caCert),
          cert: readFileSync(certs.operatorCert),
          key: readFileSync(certs.operatorKey),
          agent: false,
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(await upload('docs', tenantFile, { token })).toMatchObject({ status: 400, body: { status: { code: 'ERR_SNAPSHOT_KIND_MISMATCH' } } });
    expect(await points('docs')).toEqual(before);
  });

  it('refuses an upload that would take the tenant past its quota, changing nothing', async () => {
    const before = await points('docs');
    const limits = (body: unknown) => call(server.port, 'PUT', '/v1/admin/tenants/saas/limits', { ...operator(), body });
    const usage = ((await call(server.port, 'GET', '/v1/admin/tenants/saas/limits', operator())).body as { usage: { points: number } }).usage;
    // Room for the points held and 59 more: a new copy of 60 does not fit, replacing docs with 60 does.
    expect((await limits({ max_points: usage.points + 59 })).status).toBe(200);
    expect(await upload('one-too-many', file, { token })).toMatchObject({ status: 400, body: { status: { code: 'ERR_QUOTA_EXCEEDED' } } });
    expect((await client.collectionExists('one-too-many')).exists).toBe(false);
    expect((await upload('docs', file, { token })).status).toBe(200);
    expect(await points('docs')).toEqual(before);
    expect((await limits({ max_points: null })).status).toBe(200);
  });

  it('needs manage access: read-only, per-collection and prw tokens are refused with 403 and a code', async () => {
    for (const access of ['r', [{ collection: 'docs', access: 'rw' }], [{ collection: 'docs', access: 'prw' }], [{ collection: '*', access: 'rw' }]]) {
      const limited = await mint(['saas'], { access });
      for (const [method, path] of [
        ['POST', '/collections/docs/snapshots'],
        ['GET', '/collections/docs/snapshots'],
        ['GET', `/collections/docs/snapshots/${encodeURIComponent(name)}`],
        ['DELETE', `/collections/docs/snapshots/${encodeURIComponent(name)}`],
      ] as const) {
        const r = await raw(method, path, { token: limited });
        expect(r.status).toBe(403);
        expect(JSON.parse(r.body.toString())).toMatchObject({ status: { code: 'ERR_ACCESS_MANAGE_REQUIRED' } });
      }
      expect(await upload('docs', file, { token: limited })).toMatchObject({ status: 403, body: { status: { code: 'ERR_ACCESS_MANAGE_REQUIRED' } } });
    }
    // Manage access ("m") is enough.
    expect((await raw('GET', '/collections/docs/snapshots', { token: await mint(['saas'], { access: 'm' }) })).status).toBe(200);
  });

  it('keeps each tenant’s snapshots to itself: another tenant cannot name or reach them, nor escape by path', async () => {
    const other = await mint(['other']);
    const theirs = await raw('GET', `/collections/docs/snapshots/${encodeURIComponent(name)}`, { token: other });
    expect(theirs.status).toBe(404);
    expect(JSON.parse(theirs.body.toString())).toMatchObject({ status: { code: 'ERR_SNAPSHOT_NOT_FOUND' } });
    expect((await raw('DELETE', `/collections/docs/snapshots/${encodeURIComponent(name)}`, { token: other })).status).toBe(404);
    for (const sneaky of [`..%2F..%2F0000000000000001%2Fdocs%2F${encodeURIComponent(name)}`, '..', '.hidden.snapshot', 'a%5Cb.snapshot', 'x%00.snapshot']) {
      const r = await raw('GET', `/collections/docs/snapshots/${sneaky}`, { token: other });
      expect([400, 404]).toContain(r.status);
      expect(r.body.toString()).not.toContain('STRATA');
    }
    const escape = await raw('GET', `/collections/docs/snapshots/..%2F..%2F0000000000000001%2Fdocs%2F${encodeURIComponent(name)}`, { token: other });
    expect(JSON.parse(escape.body.toString())).toMatchObject({ status: { code: 'ERR_SNAPSHOT_NAME_INVALID' } });
    // A collection name cannot climb out either.
    expect((await raw('GET', `/collections/..%2F..%2F0000000000000001%2Fdocs/snapshots`, { token: other })).status).toBe(400);
    // Naming the other tenant by header is refused before anything is looked up.
    const header = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, method: 'GET', path: '/collections/docs/snapshots', servername: 'localhost', ca: readFileSync(certs.caCert), agent: false, headers: { authorization: `Bearer ${other}`, 'x-strata-tenant': 'saas' } },
        res => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(header).toBe(403);
    // Snapshot names are the tenant's own: its list holds none of the other tenant's.
    await new QdrantClient({ url: `https://localhost:${server.port}`, apiKey: other }).createCollection('docs', { vectors: { size: 4, distance: 'Dot' } });
    expect(await new QdrantClient({ url: `https://localhost:${server.port}`, apiKey: other }).listSnapshots('docs')).toEqual([]);
  });

  it('deletes a snapshot, after which it is gone', async () => {
    expect(await client.deleteSnapshot('docs', name)).toBe(true);
    expect(await client.listSnapshots('docs')).toEqual([]);
    await expect(client.deleteSnapshot('docs', name)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses an upload larger than max_snapshot_upload_bytes with 413, changing nothing', async () => {
    const small = await startServer(certs, { verifier: new TokenVerifier(await KeySet.load(jwks, { logger: memoryLogger() })), knobs: { maxSnapshotUploadBytes: 1000 } });
    try {
      expect((await call(small.port, 'POST', '/v1/admin/tenants', { ...operator(), body: { name: 'saas' } })).status).toBe(201);
      expect(await upload('docs', file, { token, port: small.port })).toMatchObject({ status: 413, body: { status: { code: 'ERR_REQUEST_TOO_LARGE' } } });
      expect((await new QdrantClient({ url: `https://localhost:${small.port}`, apiKey: token }).collectionExists('docs')).exists).toBe(false);
    } finally {
      await small.close();
    }
  });

  it('removes a tenant’s snapshot files with the tenant', async () => {
    const otherClient = new QdrantClient({ url: `https://localhost:${server.port}`, apiKey: await mint(['other']) });
    await otherClient.createSnapshot('docs', { wait: true });
    const id = ((await call(server.port, 'GET', '/v1/admin/tenants/other', operator())).body as { id: string }).id;
    const dir = join(server.snapshotsDir, id);
    expect(existsSync(dir)).toBe(true);
    expect((await call(server.port, 'DELETE', '/v1/admin/tenants/other?force=true', operator())).status).toBe(200);
    expect(existsSync(dir)).toBe(false);
  });
});
