import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../errors.js';
import type { Database } from '../kv/types.js';
import { tenantIdHex } from '../tenancy/registry.js';
import { checkCollectionName } from '../../layers/record/collections.js';
import { writeSnapshotFile } from './create.js';

/**
 * The server's snapshot files, as Qdrant keeps them: `{dir}/{tenant id}/{collection}/{name}`, with
 * the file's SHA-256 beside it in `{name}.sha256`. Directories are by tenant id, never by name, so a
 * renamed tenant keeps its snapshots and a name can never lead to another tenant's files; every
 * name that comes from a request is checked to be one plain file name before it touches a path.
 */

/** What Qdrant's snapshot routes describe a snapshot as. */
export interface SnapshotDescription {
  readonly name: string;
  readonly creation_time: string | null;
  readonly size: number;
  readonly checksum: string | null;
}

const SUFFIX = '.snapshot';
/**
 * Bytes of a snapshot file name's base: 255 less a counter, the time, the suffix and what a file
 * being written carries after it (`.1a2b3c4d.partial`).
 */
const MAX_BASE_BYTES = 255 - '-99999'.length - '-YYYY-MM-DD-HH-MM-SS'.length - SUFFIX.length - '.1a2b3c4d.partial'.length;
const CHECKSUM_SUFFIX = '.sha256';
const FORBIDDEN = /[\u0000-\u001f\u007f/\\]/;

/**
 * Check a snapshot name from a request: a plain file name ending in `.snapshot` (so never a file
 * being written, which ends in `.partial`), not hidden, at most 255 bytes, with no path separator or
 * control character.
 */
export function checkSnapshotName(name: string): void {
  if (typeof name !== 'string' || !name.endsWith(SUFFIX) || name.startsWith('.') || Buffer.byteLength(name) > 255 || FORBIDDEN.test(name)) {
    throw new StrataError('ERR_SNAPSHOT_NAME_INVALID', 'a snapshot name is a file name ending in .snapshot, without / \\ or control characters, not starting with a dot', {
      details: { name: typeof name === 'string' ? name.slice(0, 64) : typeof name },
    });
  }
}

/**
 * `{base}-{YYYY-MM-DD-HH-MM-SS}.snapshot` (Qdrant's pattern), with characters a file name cannot hold
 * replaced; `{base}-{n}-…` for the n-th of one second.
 */
export function snapshotFileName(base: string, at: Date, n = 0): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[T:]/g, '-');
  let safe = base.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_').replace(/^\./, '_');
  // A file name holds 255 bytes: a long collection name is cut (on a character) to leave room for
  // the time and suffix, and a `.partial` while the file is written.
  while (Buffer.byteLength(safe) > MAX_BASE_BYTES) safe = [...safe].slice(0, -1).join('');
  return `${safe}${n === 0 ? '' : `-${n}`}-${stamp}${SUFFIX}`;
}


/** The snapshot files of a server. */
export class SnapshotFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Take a snapshot of the collection into its directory and describe it. */
  async create(db: Database, tenant: string, tenantId: bigint, collection: string, now: () => number): Promise<SnapshotDescription> {
    const dir = this.#collectionDir(tenantId, collection);
    await mkdir(dir, { recursive: true });
    let name = snapshotFileName(collection, new Date(now()));
    // Two snapshots in one second: the second gets a counter, never the first one's file.
    for (let n = 1; await exists(join(dir, name)); n++) name = snapshotFileName(collection, new Date(now()), n);
    const summary = await writeSnapshotFile(db, { tenant, collection }, join(dir, name), { now, sha256: true });
    await writeFile(join(dir, `${name}${CHECKSUM_SUFFIX}`), summary.sha256 ?? '');
    return describe(dir, name);
  }

  /** The collection's snapshots, newest first. */
  async list(tenantId: bigint, collection: string): Promise<SnapshotDescription[]> {
    const dir = this.#collectionDir(tenantId, collection);
    const names = await readdir(dir).catch(() => [] as string[]);
    const found = await Promise.all(names.filter(n => n.endsWith(SUFFIX) && !n.startsWith('.')).map(n => describe(dir, n).catch(() => undefined)));
    return found.filter((d): d is SnapshotDescription => d !== undefined).sort((a, b) => String(b.creation_time).localeCompare(String(a.creation_time)));
  }

  /** The path of an existing snapshot, or `ERR_SNAPSHOT_NOT_FOUND`. */
  async path(tenantId: bigint, collection: string, name: string): Promise<string> {
    checkSnapshotName(name);
    const path = join(this.#collectionDir(tenantId, collection), name);
    if (!(await exists(path))) throw notFound(collection, name);
    return path;
  }

  /** Delete a snapshot, or `ERR_SNAPSHOT_NOT_FOUND`. */
  async delete(tenantId: bigint, collection: string, name: string): Promise<void> {
    const path = await this.path(tenantId, collection, name);
    await rm(path);
    await rm(`${path}${CHECKSUM_SUFFIX}`, { force: true });
  }

  /**
   * After a tenant restore gave the tenant a new id: its snapshot files follow it (those of the
   * restored tenant's new id would otherwise be unreachable). Nothing happens when it had none.
   */
  async followTenant(oldId: bigint, newId: bigint): Promise<void> {
    const from = join(this.#dir, tenantIdHex(oldId));
    if (!(await exists(from))) return;
    await mkdir(this.#dir, { recursive: true });
    await rename(from, join(this.#dir, tenantIdHex(newId)));
  }

  /** A deleted tenant's snapshot files go with it (ids are never reused, so nothing else could reach them). */
  async forgetTenant(tenantId: bigint): Promise<void> {
    await rm(join(this.#dir, tenantIdHex(tenantId)), { recursive: true, force: true });
  }

  #collectionDir(tenantId: bigint, collection: string): string {
    // The collection name rules keep it one path component (no separators, not . or ..).
    checkCollectionName(collection);
    return join(this.#dir, tenantIdHex(tenantId), collection);
  }
}

async function describe(dir: string, name: string): Promise<SnapshotDescription> {
  const path = join(dir, name);
  const s = await stat(path);
  const sum = await readFile(`${path}${CHECKSUM_SUFFIX}`, 'utf8').catch(() => '');
  // Qdrant's creation_time is a date-time without zone or fraction.
  return { name, creation_time: s.mtime.toISOString().slice(0, 19), size: s.size, checksum: sum === '' ? null : sum };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function notFound(collection: string, name: string): StrataError {
  return new StrataError('ERR_SNAPSHOT_NOT_FOUND', `Snapshot ${name} of collection ${collection} doesn't exist`, { details: { collection, name } });
}
