import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StrataError } from '../../errors.js';
import { tenantIdHex } from '../../tenancy/registry.js';
import { snapshotChunks } from '../../snapshot/create.js';
import { SnapshotFiles } from '../../snapshot/files.js';
import { restoreSnapshot } from '../../snapshot/restore.js';
import type { AppDeps } from '../app.js';
import { requireTrusted } from '../principal.js';

/**
 * The operators' snapshot routes (trusted callers only), which `strata snapshot --server` and
 * `strata backup --server` use: a tenant's or collection's snapshot streamed out, a snapshot file
 * streamed in to restore (the body is not held in memory nor bound by the body limit), and a
 * compacted copy of the whole embedded store streamed out while the server goes on serving.
 */

type Target = { Params: { name: string }; Querystring: { collection?: string } };

const TARGET_SCHEMA = {
  params: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 1024 } } },
  querystring: { type: 'object', additionalProperties: false, properties: { collection: { type: 'string', minLength: 1, maxLength: 1024 } } },
} as const;

/** The file name of LMDB's data in a store directory (what a backup streams). */
const LMDB_DATA_FILE = 'data.mdb';

/** Register the snapshot administration routes. */
export function registerSnapshotAdminRoutes(app: FastifyInstance, deps: AppDeps): void {
  const trustedOnly = { onRequest: [async (request: FastifyRequest) => requireTrusted(request.principal)] };
  const files = deps.snapshotsDir === undefined ? undefined : new SnapshotFiles(deps.snapshotsDir);

  app.get<Target>('/v1/admin/tenants/:name/snapshot', { ...trustedOnly, schema: TARGET_SCHEMA }, async (request, reply) => {
    const { collection } = request.query;
    const chunks = snapshotChunks(deps.db, { tenant: request.params.name, ...(collection === undefined ? {} : { collection }) }, { now: deps.now });
    // The first chunk is asked for before answering, so a missing tenant or collection is a 404, not a cut stream.
    const first = await chunks.next();
    async function* all(): AsyncGenerator<Buffer> {
      if (first.done === true) return;
      yield first.value;
      for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) yield next.value;
    }
    const body = Readable.from(all());
    // A client that goes away ends the snapshot (and frees its read version).
    body.once('close', () => void chunks.return(undefined as never));
    return reply.type('application/octet-stream').send(body);
  });

  void app.register(async scope => {
    // The restore body is passed through as a stream: parsed by the restore, never buffered.
    scope.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
    scope.post<Target & { Body: NodeJS.ReadableStream }>('/v1/admin/tenants/:name/restore', { ...trustedOnly, schema: TARGET_SCHEMA }, async request => {
      const { collection } = request.query;
      if (typeof request.body?.[Symbol.asyncIterator] !== 'function') {
        throw new StrataError('ERR_REQUEST_INVALID', 'send the snapshot file as the body, with content-type application/octet-stream');
      }
      const result = await restoreSnapshot(deps.db, request.body as AsyncIterable<Uint8Array>, {
        tenant: request.params.name,
        ...(collection === undefined ? {} : { collection, kind: 'collection' as const }),
        now: deps.now,
      });
      if (result.replacedTenantId !== undefined) await files?.followTenant(result.replacedTenantId, result.tenantId);
      return {
        kind: result.kind,
        tenant: result.tenant,
        ...(result.collection === undefined ? {} : { collection: result.collection }),
        id: tenantIdHex(result.tenantId),
        replaced: result.replaced,
        consistent: result.header.consistent,
        bytes: result.bytes,
        pairs: result.pairs,
        points: result.points,
      };
    });
  });

  app.post('/v1/admin/backup', trustedOnly, async (_request, reply) => {
    if (deps.db.backup === undefined) {
      throw new StrataError('ERR_BACKUP_UNSUPPORTED', 'whole-store backup is for the embedded engine; back FoundationDB clusters up with fdbbackup');
    }
    // Beside the snapshots (by default inside the data directory, so on the same disk), not in a
    // temporary directory that may be a small in-memory one.
    const base = deps.snapshotsDir ?? tmpdir();
    await mkdir(base, { recursive: true });
    const dir = await mkdtemp(join(base, '.backup-'));
    try {
      await deps.db.backup(join(dir, 'store'));
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const copy = createReadStream(join(dir, 'store', LMDB_DATA_FILE));
    // The copy is temporary: it goes once sent, or once the client has gone.
    copy.once('close', () => void rm(dir, { recursive: true, force: true }));
    return reply.type('application/octet-stream').send(copy);
  });
}
