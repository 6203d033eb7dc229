import { Command, Option } from 'commander';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NativeClient } from '../../client/native-client.js';
import { isStrataError, StrataError } from '../../errors.js';
import { tenantIdHex } from '../../tenancy/registry.js';
import { writeSnapshotFile } from '../../snapshot/create.js';
import { snapshotFileName, SnapshotFiles } from '../../snapshot/files.js';
import { readSnapshotInfo, type SnapshotInfo } from '../../snapshot/info.js';
import { formatBytes, Progress, type ProgressOutput } from '../../snapshot/progress.js';
import { restoreSnapshotFile } from '../../snapshot/restore.js';
import { dataDirOf, withDatabase } from '../connect.js';
import { processOutput, type Output } from '../output.js';
import { devOrGiven, type ServerOptions } from '../store.js';
import { serverOptions, storeOptions, withStoreOptions } from './options.js';

/** Plain progress lines this often when stderr is not a terminal. */
const PLAIN_LINE_MS = 1000;

const LOCKED_NOTE = `
The embedded engine locks its data directory: while a server runs on it, reach the store through
the server (--server, with operator certificates), not --data-dir.`;

/** `strata snapshot create|list|restore`: tenant and collection snapshots, locally or through a server. */
export function snapshotCommand(output: Output): Command {
  const snapshot = new Command('snapshot').description('snapshot a tenant or collection to one file, list snapshot files, restore one');

  withStoreOptions(
    snapshot
      .command('create')
      .description('write a snapshot of a tenant (or one collection of it) to a file')
      .addOption(new Option('-t, --tenant <name>', 'the tenant').makeOptionMandatory())
      .option('-c, --collection <name>', 'only this collection of the tenant')
      .option('-o, --output <file>', 'the file to write (default: {collection or tenant}-{time}.snapshot)')
      .option('--json', 'print what was written as JSON'),
  )
    .addHelpText('after', LOCKED_NOTE)
    .action(async opts => {
      const tenant = opts.tenant as string;
      const collection = opts.collection as string | undefined;
      const file = (opts.output as string | undefined) ?? snapshotFileName(collection ?? tenant, new Date());
      const progress = new Progress(`snapshot of ${collection === undefined ? `tenant ${tenant}` : `${tenant}/${collection}`}`, progressOutput(output), { intervalMs: PLAIN_LINE_MS });
      const remote = serverOptions(opts);
      let info: SnapshotInfo;
      if (remote.server === undefined) {
        await withDatabase(storeOptions(opts), db =>
          writeSnapshotFile(db, { tenant, ...(collection === undefined ? {} : { collection }) }, file, { onProgress: p => progress.update(p.bytes, p.points) }),
        );
        info = await readSnapshotInfo(file);
      } else {
        info = await withClient(remote, async client => {
          const partial = `${file}.partial`;
          try {
            await client.downloadSnapshot(tenant, collection, partial, bytes => progress.update(bytes, 0));
            const got = await readSnapshotInfo(partial);
            if (got.trailer === undefined) throw new StrataError('ERR_SNAPSHOT_INVALID', 'the server sent a snapshot without its trailer', { details: { check: 'truncated' } });
            await rename(partial, file);
            return got;
          } catch (err) {
            await rm(partial, { force: true });
            throw err;
          }
        });
      }
      progress.update(info.size, info.trailer?.points ?? 0);
      progress.finish(`done`);
      if (opts.json) return output.out(JSON.stringify({ file, ...describe(info) }));
      output.out(`Snapshot of ${describeTarget(info)} written to ${file}: ${info.trailer?.points ?? 0} points, ${formatBytes(info.size)}${info.header.consistent ? '' : ' (read in chunks: not one version)'}`);
    });

  snapshot
    .command('list')
    .description('describe snapshot files (from their headers and trailers): kind, tenant, collection, time, size, points')
    .argument('[paths...]', 'snapshot files, or directories to look in for *.snapshot files (default: .)')
    .option('--json', 'print the descriptions as JSON')
    .action(async (paths: string[], opts) => {
      const files = await snapshotFiles(paths.length === 0 ? ['.'] : paths);
      const rows: Array<Record<string, unknown>> = [];
      for (const file of files) {
        try {
          rows.push({ file, ...describe(await readSnapshotInfo(file)) });
        } catch (err) {
          if (!isStrataError(err)) throw err;
          rows.push({ file, error: err.code });
        }
      }
      if (opts.json) return output.out(JSON.stringify(rows));
      if (rows.length === 0) return output.out('No snapshot files found');
      for (const r of rows) {
        if (r['error'] !== undefined) output.out(`${String(r['file'])}\tnot a readable snapshot (${String(r['error'])})`);
        else {
          const target = r['kind'] === 'tenant' ? `tenant ${String(r['tenant'])}` : `collection ${String(r['tenant'])}/${String(r['collection'])}`;
          const points = r['complete'] === true ? `${String(r['points'])} points` : 'truncated';
          output.out(`${String(r['file'])}\t${target}\t${String(r['created_at'])}\t${formatBytes(r['size'] as number)}\t${points}\t${r['consistent'] === true ? 'consistent' : 'chunked'}`);
        }
      }
    });

  withStoreOptions(
    snapshot
      .command('restore')
      .description('restore a snapshot file: a tenant (created, or replaced in one switch) or a collection of a tenant')
      .argument('<file>', 'the snapshot file')
      .option('-t, --tenant <name>', 'restore into this tenant (default: the one the snapshot was taken from)')
      .option('-c, --collection <name>', 'restore a collection snapshot as this collection (default: its own name)')
      .option('--json', 'print what was restored as JSON'),
  )
    .addHelpText('after', `${LOCKED_NOTE}\nNothing changes until the whole file has checked out; a refused file or an interrupted restore leaves the old data as it was.`)
    .action(async (file: string, opts) => {
      const tenant = opts.tenant as string | undefined;
      const collection = opts.collection as string | undefined;
      const { size } = await stat(file).catch(() => {
        throw new StrataError('ERR_SNAPSHOT_NOT_FOUND', `no snapshot file ${file}`, { details: { file } });
      });
      const progress = new Progress(`restore ${file}`, progressOutput(output), { total: size, intervalMs: PLAIN_LINE_MS });
      const remote = serverOptions(opts);
      let done: { kind: string; tenant: string; collection?: string; id: string; replaced: boolean; points: number; bytes: number };
      if (remote.server === undefined) {
        const local = storeOptions(opts);
        done = await withDatabase(local, async db => {
          const r = await restoreSnapshotFile(db, file, {
            ...(tenant === undefined ? {} : { tenant }),
            ...(collection === undefined ? {} : { collection, kind: 'collection' as const }),
            onProgress: p => progress.update(p.bytes, p.points),
          });
          // The tenant's snapshot files follow its new id, as the server's do.
          const dir = local.clusterFile === undefined ? join(dataDirOf(local), 'snapshots') : 'snapshots';
          if (r.replacedTenantId !== undefined) await new SnapshotFiles(dir).followTenant(r.replacedTenantId, r.tenantId);
          return { ...r, id: tenantIdHex(r.tenantId) };
        });
      } else {
        const target = tenant ?? (await readSnapshotInfo(file)).header.tenant;
        done = await withClient(remote, client => client.restoreSnapshot(target, collection, file, bytes => progress.update(bytes, 0)));
      }
      progress.update(size, done.points);
      progress.finish('done');
      if (opts.json) return output.out(JSON.stringify(done));
      const what = done.kind === 'tenant' ? `tenant \`${done.tenant}'` : `collection \`${done.collection}' of tenant \`${done.tenant}'`;
      output.out(`Restored ${what} from ${file}: ${done.points} points (${done.replaced ? 'replaced the previous data' : 'created'})`);
    });

  return snapshot;
}

/** `strata backup`: a compacted copy of the whole embedded store, usable as a data directory. */
export function backupCommand(output: Output): Command {
  return withStoreOptions(
    new Command('backup')
      .description('copy the whole embedded store, compacted and consistent, into a new directory (a data directory of its own)')
      .addOption(new Option('-o, --output <dir>', 'the directory to create (must not exist, or be empty)').makeOptionMandatory()),
  )
    .addHelpText('after', `${LOCKED_NOTE}\nThe copy is LMDB's compacting copy, taken while the store stays in use. FoundationDB clusters are backed up with fdbbackup.`)
    .action(async opts => {
      const dir = opts.output as string;
      const remote = serverOptions(opts);
      const progress = new Progress(`backup to ${dir}`, progressOutput(output), { intervalMs: PLAIN_LINE_MS });
      if (remote.server === undefined) {
        await withDatabase(storeOptions(opts), async db => {
          if (db.backup === undefined) throw new StrataError('ERR_BACKUP_UNSUPPORTED', 'whole-store backup is for the embedded engine; back FoundationDB clusters up with fdbbackup');
          await db.backup(dir);
        });
      } else {
        await mkdir(dir, { recursive: true });
        if ((await readdir(dir)).length > 0) throw new StrataError('ERR_BACKUP_OUTPUT_EXISTS', `the backup directory ${dir} is not empty`, { details: { dir } });
        await withClient(remote, client => client.backup(join(dir, 'data.mdb'), bytes => progress.update(bytes, 0)));
      }
      const { size } = await stat(join(dir, 'data.mdb'));
      progress.update(size, 0);
      progress.finish('done');
      output.out(`Backup written to ${dir} (${formatBytes(size)}); serve it with --data-dir ${dir}`);
    });
}

/** Where progress goes: redrawn on stderr when it is a terminal, plain lines to the command's stderr otherwise. */
function progressOutput(output: Output): ProgressOutput {
  const tty = output === processOutput && process.stderr.isTTY ? process.stderr : undefined;
  return { ...(tty === undefined ? {} : { tty }), line: text => output.err(text) };
}

async function withClient<T>(options: ServerOptions, fn: (client: NativeClient) => Promise<T>): Promise<T> {
  const client = new NativeClient({ url: options.server as string, ...devOrGiven(options) });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** The snapshot files among `paths`: files as given, directories' `*.snapshot` files in name order. */
async function snapshotFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const s = await stat(path).catch(() => undefined);
    if (s?.isDirectory() === true) {
      const names = (await readdir(path)).filter(n => n.endsWith('.snapshot')).sort();
      files.push(...names.map(n => join(path, n)));
    } else files.push(path);
  }
  return files;
}

function describe(info: SnapshotInfo): Record<string, unknown> {
  const h = info.header;
  return {
    kind: h.kind,
    tenant: h.tenant,
    ...(h.collection === undefined ? {} : { collection: h.collection }),
    created_at: h.created_at,
    size: info.size,
    points: info.trailer?.points ?? null,
    pairs: info.trailer?.pairs ?? null,
    complete: info.trailer !== undefined,
    consistent: h.consistent,
    engine: h.engine,
  };
}

function describeTarget(info: SnapshotInfo): string {
  return info.header.kind === 'tenant' ? `tenant \`${info.header.tenant}'` : `collection \`${info.header.collection}' of tenant \`${info.header.tenant}'`;
}
