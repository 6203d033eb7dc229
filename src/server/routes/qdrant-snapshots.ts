import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createReadStream } from 'node:fs';
import { basename, dirname } from 'node:path';
import { StrataError } from '../../errors.js';
import { requireTenant } from '../../tenancy/registry.js';
import { SnapshotFiles } from '../../snapshot/files.js';
import { restoreSnapshot, restoreSnapshotFile } from '../../snapshot/restore.js';
import { requireCollection } from '../../../layers/record/collections.js';
import type { AppDeps } from '../app.js';
import { authorizeQdrantTenant, inTenant } from '../qdrant/context.js';
import { ok } from '../qdrant/respond.js';

/**
 * Qdrant's collection snapshot routes: create, list, download, delete, and recovery from an upload
 * (multipart field `snapshot`) or from a file of the tenant's own (`file://` location). All need
 * manage access in the tenant: read-only and per-collection (`r`, `rw`, `prw`) tokens are refused.
 * Files live in the server's snapshots directory under the tenant's id (see SnapshotFiles); a
 * recovery writes a fresh copy and switches the collection to it only once the file checked out.
 */

type C = { Params: { collection: string } };
type Named = { Params: { collection: string; name: string } };
type Recover = { Params: { collection: string }; Querystring: { checksum?: string } };

/** Register the snapshot routes. */
export function registerQdrantSnapshotRoutes(app: FastifyInstance, deps: AppDeps): void {
  const files = deps.snapshotsDir === undefined ? undefined : new SnapshotFiles(deps.snapshotsDir);
  const store = (): SnapshotFiles => {
    if (files === undefined) throw new StrataError('ERR_FEATURE_UNSUPPORTED', 'this server keeps no snapshot files (no snapshots directory configured)');
    return files;
  };

  /** The caller's tenant and its id, once manage access is granted (and, unless creating, the collection exists). */
  async function manage(request: FastifyRequest, collection: string, mustExist: boolean): Promise<{ tenant: string; tenantId: bigint }> {
    const tenant = authorizeQdrantTenant(deps, request);
    await inTenant(deps, request, collection, 'manage', async tx => (mustExist ? requireCollection(tx, collection) : undefined));
    const { id } = await deps.db.transact(tx => requireTenant(tx, tenant));
    return { tenant, tenantId: id };
  }

  /** The tenant's quotas, which a restore by its own caller may not take it past. */
  const quotaOf = async (tenant: string) => deps.limits.usage(await deps.db.transact(tx => deps.limits.inForce(tx, tenant)), undefined);

  app.post<C>('/collections/:collection/snapshots', async (request, reply) => {
    const { collection } = request.params;
    const { tenant, tenantId } = await manage(request, collection, true);
    return ok(reply, await store().create(deps.db, tenant, tenantId, collection, deps.now));
  });

  app.get<C>('/collections/:collection/snapshots', async (request, reply) => {
    const { collection } = request.params;
    const { tenantId } = await manage(request, collection, true);
    return ok(reply, await store().list(tenantId, collection));
  });

  app.get<Named>('/collections/:collection/snapshots/:name', async (request, reply) => {
    const { collection, name } = request.params;
    const { tenantId } = await manage(request, collection, false);
    const path = await store().path(tenantId, collection, name);
    return reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(name)}`)
      .send(createReadStream(path));
  });

  app.delete<Named>('/collections/:collection/snapshots/:name', async (request, reply) => {
    const { collection, name } = request.params;
    const { tenantId } = await manage(request, collection, false);
    await store().delete(tenantId, collection, name);
    return ok(reply, true);
  });

  app.put<C & { Body: unknown }>('/collections/:collection/snapshots/recover', async (request, reply) => {
    const { collection } = request.params;
    const body = (request.body ?? {}) as { location?: unknown; checksum?: unknown };
    if (typeof body.location !== 'string') throw new StrataError('ERR_REQUEST_INVALID', 'location is required');
    const { tenant, tenantId } = await manage(request, collection, false);
    // Only the tenant's own snapshot files: fetching URLs would let a tenant make the server call anywhere.
    if (!body.location.startsWith('file://')) {
      throw new StrataError('ERR_FEATURE_UNSUPPORTED', 'Strata recovers only from its own snapshot files (file://…/{collection}/{name}) or an upload (POST …/snapshots/upload)');
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(body.location).pathname);
    } catch {
      throw new StrataError('ERR_REQUEST_INVALID', 'location is not a valid file:// URL');
    }
    const file = await store().path(tenantId, basename(dirname(path)), basename(path));
    await restoreSnapshotFile(deps.db, file, { tenant, collection, kind: 'collection', quota: await quotaOf(tenant), ...checksum(body.checksum) });
    return ok(reply, true);
  });

  // Multipart parsing for the upload route alone: an upload is bound by its own limit
  // (max_snapshot_upload_bytes), not the body limit.
  void app.register(async scope => {
    await scope.register(multipart, { limits: { fileSize: deps.knobs.maxSnapshotUploadBytes ?? Number.MAX_SAFE_INTEGER, files: 1, fields: 0, parts: 1 } });
    scope.post<Recover>('/collections/:collection/snapshots/upload', async (request, reply) => {
      const { collection } = request.params;
      const { tenant } = await manage(request, collection, false);
      if (!request.isMultipart()) throw new StrataError('ERR_REQUEST_INVALID', 'upload the snapshot as multipart/form-data in the field `snapshot`');
      const part = await request.file();
      if (part === undefined || part.fieldname !== 'snapshot') throw new StrataError('ERR_REQUEST_INVALID', 'upload the snapshot in the multipart field `snapshot`');
      // `priority` and `wait` are accepted and have nothing to do: there are no replicas, and the restore is done when this answers.
      try {
        await restoreSnapshot(deps.db, part.file, { tenant, collection, kind: 'collection', quota: await quotaOf(tenant), ...checksum(request.query.checksum) });
      } catch (err) {
        // Past the size limit the upload stream just ends, and the restore refuses a short file: say why.
        if (part.file.truncated) throw new StrataError('ERR_REQUEST_TOO_LARGE', 'the snapshot is larger than the server accepts (max_snapshot_upload_bytes); nothing was changed');
        throw err;
      }
      return ok(reply, true);
    });
  });
}

function checksum(value: unknown): { sha256?: string } {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{64}$/.test(value)) throw new StrataError('ERR_REQUEST_INVALID', 'checksum must be a hex SHA-256');
  return { sha256: value };
}
