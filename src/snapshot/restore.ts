import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isStrataError, StrataError } from '../errors.js';
import { concatBytes, prefixEnd } from '../kv/keys.js';
import type { Database, Transaction } from '../kv/types.js';
import { encodeTenantId, TENANT_BY_ID, TENANT_BY_NAME, TENANT_COUNT_KEY, tenantPrefix } from '../tenancy/layout.js';
import { tenantNameBytes } from '../tenancy/name.js';
import { getTenant, requireTenant } from '../tenancy/registry.js';
import { TenantTransaction } from '../tenancy/scoped.js';
import { checkCollectionName, openCollection, saveCollection, type StoredCollection } from '../../layers/record/collections.js';
import { COLLECTION_BY_NAME, COLLECTION_CONFIG, collectionKeys } from '../../layers/record/layout.js';
import { countCollectionUsage } from '../../layers/record/usage.js';
import { HNSW_DEFAULTS, MAX_VECTOR_SIZE, parseHnsw } from '../../layers/record/collection-config.js';
import { INDEX_TYPES, type IndexType } from '../../layers/record/index-schema.js';
import { parseStrictMode } from '../../layers/record/strict-mode.js';
import { DISTANCES, type Distance } from '../../layers/vector/distance.js';
import { checkTenantQuota, type UsageLimits } from '../../layers/record/limits.js';
import {
  abandonClaim,
  claimCollectionId,
  claimTenantId,
  cleanOrphanRestores,
  HEARTBEAT_MS,
  markerKey,
  requireClaim,
  STALE_AFTER_MS,
  touchClaim,
  type RestoreClaim,
} from './claims.js';
import { invalid, type Pair, type SnapshotHeader, type SnapshotKind } from './format.js';
import { pointKeyTest } from './points.js';
import { UsageTally } from './usage-tally.js';
import { openSnapshot, type SnapshotSource } from './read.js';

/** Options of {@link restoreSnapshot}. */
export interface RestoreOptions {
  /** The tenant to restore into (default: the one the snapshot was taken from). */
  readonly tenant?: string;
  /** The collection to restore into (collection snapshots; default: the snapshot's). */
  readonly collection?: string;
  /** What the caller restores: a file of the other kind is refused with `ERR_SNAPSHOT_KIND_MISMATCH`. */
  readonly kind?: SnapshotKind;
  /** Hex SHA-256 the file must have (Qdrant's `checksum`), checked before the switch. */
  readonly sha256?: string;
  readonly now?: () => number;
  /** Restores silent for this long are orphans, cleaned before this one starts. */
  readonly staleAfterMs?: number;
  /** Told after every chunk written: bytes of the file read, pairs and points written. */
  readonly onProgress?: (progress: RestoreProgress) => void;
  /**
   * The tenant's quotas, for a collection restored by a tenant's own caller: checked in the switch,
   * so a restore that would take the tenant past them is refused and changes nothing.
   */
  readonly quota?: Pick<UsageLimits, 'tenantMaxPoints' | 'tenantMaxBytes'>;
}

/** How far a restore has got. */
export interface RestoreProgress {
  readonly bytes: number;
  readonly pairs: number;
  readonly points: number;
}

/** What a restore did. */
export interface RestoreResult {
  readonly kind: SnapshotKind;
  readonly tenant: string;
  readonly collection?: string;
  /** The tenant's id now (new for a tenant restore). */
  readonly tenantId: bigint;
  /** The tenant's id before a tenant restore (absent when the tenant was created). */
  readonly replacedTenantId?: bigint;
  /** The collection's new id (collection restores). */
  readonly collectionId?: number;
  /** True when an existing tenant or collection was replaced, false when one was created. */
  readonly replaced: boolean;
  readonly header: SnapshotHeader;
  /** Bytes of the file read. */
  readonly bytes: number;
  readonly pairs: number;
  readonly points: number;
}

/**
 * Bytes per write transaction, counted as written (the tenant and collection prefixes included, and
 * a pair's own cost in the transaction): well inside the 10 MB limit, big enough to stream.
 */
const CHUNK_BYTES = 4 << 20;
/** Pairs per write transaction, whatever their size: tiny pairs cost per pair, not per byte. */
const CHUNK_PAIRS = 20_000;
/** What one pair costs a transaction beyond its bytes (as FoundationDB counts a mutation's overhead). */
const PAIR_OVERHEAD_BYTES = 32;

/**
 * Restore a snapshot read from `source` (file chunks). A tenant snapshot goes into a fresh tenant id,
 * a collection snapshot into a fresh collection id of the tenant, written in chunked transactions
 * nobody reads; only when the whole file has checked out (every block's crc, the trailer's counts and
 * chain, the end of the file, the SHA-256 if given) does one transaction switch the name to the new
 * id and clear the old data. A refused file, or a restore that dies, leaves the old data as it was
 * (a dead restore's orphan is cleaned by the next restore, or when a server starts).
 *
 * @example
 * await restoreSnapshot(db, createReadStream('acme.snapshot'), { tenant: 'acme-copy' });
 */
export async function restoreSnapshot(db: Database, source: SnapshotSource, options: RestoreOptions = {}): Promise<RestoreResult> {
  const now = options.now ?? Date.now;
  await cleanOrphanRestores(db, { now, staleAfterMs: options.staleAfterMs ?? STALE_AFTER_MS });
  const hash = options.sha256 === undefined ? undefined : createHash('sha256');
  const snapshot = await openSnapshot(hash === undefined ? source : hashing(source, hash));
  const { header } = snapshot;
  const kind = header.kind;
  if ((options.kind !== undefined && options.kind !== kind) || (options.collection !== undefined && kind === 'tenant')) {
    const wanted = options.kind ?? 'collection';
    throw new StrataError('ERR_SNAPSHOT_KIND_MISMATCH', `the file is a ${kind} snapshot, not a ${wanted} snapshot; nothing was changed`, {
      details: { kind, expected: wanted },
    });
  }
  const tenant = options.tenant ?? header.tenant;
  tenantNameBytes(tenant);
  const collection = kind === 'collection' ? (options.collection ?? (header.collection as string)) : undefined;
  if (collection !== undefined) checkCollectionName(collection);
  const described = kind === 'collection' ? describedCollection(header) : undefined;

  const claim = collection === undefined ? await claimTenantId(db, tenant, now) : await claimCollectionId(db, tenant, collection, now);
  const tally = new UsageTally(kind);
  const writer = new ChunkWriter(db, claim, now, pointKeyTest(kind), tally);
  try {
    for await (const pairs of snapshot.blocks()) {
      await writer.add(pairs, snapshot.offset);
      options.onProgress?.({ bytes: snapshot.offset, pairs: writer.pairs, points: writer.points });
    }
    const trailer = snapshot.trailer;
    if (trailer === undefined) throw new Error('a snapshot ended without its trailer');
    if (hash !== undefined && hash.digest('hex') !== options.sha256?.toLowerCase()) {
      throw invalid('sha256', snapshot.offset, 'the file’s SHA-256 is not the checksum given');
    }
    await writer.flush();
    const switched =
      claim.kind === 'tenant'
        ? await switchTenant(db, claim, tenant, tally)
        : await switchCollection(db, claim, tenant, collection as string, described as Omit<StoredCollection, 'name' | 'id'>, tally, options.quota);
    const progress = { bytes: snapshot.offset, pairs: trailer.pairs, points: trailer.points };
    options.onProgress?.(progress);
    return { kind, tenant, ...(collection === undefined ? {} : { collection }), header, ...progress, ...switched };
  } catch (err) {
    await writer.stop();
    // The half-written copy goes now; if even that fails, its marker lets a later cleanup find it.
    await abandonClaim(db, claim).catch(() => undefined);
    throw err;
  }
}

/** Restore the snapshot in file `path` (see {@link restoreSnapshot}); `bytes` of the result is the file's size. */
export async function restoreSnapshotFile(db: Database, path: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  // Chunks bigger than a block: most frames are then views into one chunk, not copies.
  const file = createReadStream(path, { highWaterMark: 4 << 20 });
  try {
    return await restoreSnapshot(db, file, options);
  } finally {
    // A file refused at its header is not read to the end: its descriptor is closed here.
    file.destroy();
  }
}

async function* hashing(source: SnapshotSource, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

/**
 * Writes pairs under the claim in transactions of about {@link CHUNK_BYTES}, one at a time (so they
 * never conflict with each other over the marker) while the next chunk is read and decoded. Every
 * chunk re-checks the claim; it refreshes the heartbeat when due, and a timer does so while the
 * source is slow.
 */
class ChunkWriter {
  readonly #db: Database;
  readonly #claim: RestoreClaim;
  readonly #now: () => number;
  /** Where keys go: the new tenant's prefix, or the new collection's data subspace in its tenant. */
  readonly #tenantPrefix: Uint8Array;
  readonly #under: Uint8Array;
  #pending: Pair[] = [];
  #pendingBytes = 0;
  /** Bytes every key gets in front of it when written. */
  readonly #keyOverhead: number;
  /** The last key queued: keys must come in strictly increasing order, as a writer emits them. */
  #lastKey: Uint8Array | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #beat = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #isPoint: (key: Uint8Array) => boolean;
  readonly #tally: UsageTally;
  /** Pairs and points queued so far. */
  pairs = 0;
  points = 0;

  constructor(db: Database, claim: RestoreClaim, now: () => number, isPoint: (key: Uint8Array) => boolean, tally: UsageTally) {
    this.#db = db;
    this.#tally = tally;
    this.#isPoint = isPoint;
    this.#claim = claim;
    this.#now = now;
    this.#beat = now();
    this.#tenantPrefix = tenantPrefix(claim.tenantId);
    this.#under = claim.kind === 'tenant' ? new Uint8Array(0) : collectionKeys(claim.collectionId).data.prefix;
    this.#keyOverhead = this.#tenantPrefix.length + this.#under.length + PAIR_OVERHEAD_BYTES;
    this.#timer = setInterval(() => {
      if (this.#now() - this.#beat >= HEARTBEAT_MS) this.#enqueue([]);
    }, HEARTBEAT_MS);
    this.#timer.unref();
  }

  /**
   * Queue pairs (read at file `offset`, for errors); when a chunk is full, wait for the previous
   * chunk's commit and start this one. Keys must be strictly increasing, as every snapshot writes
   * them: a crafted file cannot repeat a key, nor pack millions of tiny pairs into a few blocks.
   */
  async add(pairs: readonly Pair[], offset: number): Promise<void> {
    for (const pair of pairs) {
      if (this.#lastKey !== undefined && Buffer.compare(this.#lastKey, pair.key) >= 0) throw invalid('order', offset, 'a block’s keys are not in strictly increasing order');
      if (pair.key.length === 0 && this.#under.length > 0) throw invalid('order', offset, 'a collection snapshot holds an empty key');
      this.#lastKey = pair.key;
      this.pairs++;
      if (this.#isPoint(pair.key)) this.points++;
      // Counters are not restored but recomputed from what is (see UsageTally).
      if (!this.#tally.see(pair.key, pair.value.length)) continue;
      this.#pending.push(pair);
      this.#pendingBytes += this.#keyOverhead + pair.key.length + pair.value.length;
      if (this.#pendingBytes >= CHUNK_BYTES || this.#pending.length >= CHUNK_PAIRS) await this.#cut();
    }
  }

  /** Write whatever is queued and wait for every commit. */
  async flush(): Promise<void> {
    if (this.#pending.length > 0) await this.#cut();
    await this.#inFlight;
    clearInterval(this.#timer);
  }

  /** Stop the heartbeat and wait for the commit in flight (its outcome no longer matters). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight.catch(() => undefined);
  }

  async #cut(): Promise<void> {
    const chunk = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    // One commit in flight: wait for it (surfacing its failure) before starting the next.
    await this.#inFlight;
    this.#enqueue(chunk);
  }

  #enqueue(chunk: readonly Pair[]): void {
    const run = this.#inFlight.then(() =>
      this.#db.transact(async tx => {
        await requireClaim(tx, this.#claim);
        const at = this.#now();
        if (at - this.#beat >= HEARTBEAT_MS) await touchClaim(tx, this.#claim, at);
        // Tenant-scoped: every key is checked as a tenant key and cannot leave the claimed range.
        const scoped = new TenantTransaction(tx, this.#tenantPrefix);
        for (const { key, value } of chunk) scoped.set(this.#under.length === 0 ? key : concatBytes(this.#under, key), value);
      }).then(() => {
        this.#beat = this.#now();
      }),
    );
    run.catch(() => undefined); // surfaced by the next #cut, flush or stop
    this.#inFlight = run;
  }
}

/** The switch of a tenant restore: the name now means the new id; the old id's data goes. */
async function switchTenant(db: Database, claim: RestoreClaim, name: string, tally: UsageTally): Promise<{ tenantId: bigint; replaced: boolean; replacedTenantId?: bigint }> {
  return db.transact(async tx => {
    const old = await getTenant(tx, name);
    // A retried switch whose first attempt did commit (FoundationDB's unknown commit result) is done.
    if (old?.id === claim.tenantId) return { tenantId: claim.tenantId, replaced: false };
    await requireClaim(tx, claim);
    tally.write(new TenantTransaction(tx, tenantPrefix(claim.tenantId)));
    const nameBytes = tenantNameBytes(name);
    if (old === undefined) tx.add(TENANT_COUNT_KEY, PLUS_ONE);
    else {
      tx.clearRange(old.prefix, prefixEnd(old.prefix));
      tx.clear(TENANT_BY_ID.pack([encodeTenantId(old.id)]));
    }
    tx.set(TENANT_BY_NAME.pack([nameBytes]), encodeTenantId(claim.tenantId));
    tx.set(TENANT_BY_ID.pack([encodeTenantId(claim.tenantId)]), nameBytes);
    clearMarker(tx, claim);
    return { tenantId: claim.tenantId, replaced: old !== undefined, ...(old === undefined ? {} : { replacedTenantId: old.id }) };
  });
}

/**
 * The switch of a collection restore: the name now means the new id with the snapshot's config; an
 * existing collection of that name goes (Qdrant's recovery replaces it). The pending flag is raised so
 * the indexer links whatever the snapshot left unlinked (it lowers it at once when nothing is).
 */
async function switchCollection(
  db: Database,
  claim: RestoreClaim & { kind: 'collection' },
  tenant: string,
  name: string,
  described: Omit<StoredCollection, 'name' | 'id'>,
  tally: UsageTally,
  quota: RestoreOptions['quota'],
): Promise<{ tenantId: bigint; collectionId: number; replaced: boolean }> {
  return db.transact(async tx => {
    const t = await requireTenant(tx, tenant);
    if (t.id !== claim.tenantId) {
      throw new StrataError('ERR_SNAPSHOT_RESTORE_ABORTED', `tenant ${JSON.stringify(tenant)} was replaced while the restore ran; nothing was switched`, {
        details: { tenant },
      });
    }
    const ttx = new TenantTransaction(tx, t.prefix);
    const old = await openCollection(ttx, name);
    // A retried switch whose first attempt did commit (FoundationDB's unknown commit result) is done.
    if (old?.id === claim.collectionId) return { tenantId: t.id, collectionId: old.id, replaced: false };
    await requireClaim(tx, claim);
    // The tenant's usage counters lose the replaced collection and gain the restored one.
    tally.write(ttx, claim.collectionId);
    await countCollectionUsage(ttx, { keys: collectionKeys(claim.collectionId) }, 1);
    if (old !== undefined) {
      await countCollectionUsage(ttx, old, -1);
      ttx.clear(COLLECTION_CONFIG.pack([old.id]));
      const { begin, end } = old.keys.data.range();
      ttx.clearRange(begin, end);
      ttx.clear(old.keys.pendingFlag);
    }
    if (quota !== undefined) await checkTenantQuota(ttx, quota);
    const id = claim.collectionId;
    const idBytes = Buffer.alloc(8);
    idBytes.writeBigUInt64BE(BigInt(id));
    ttx.set(COLLECTION_BY_NAME.pack([name]), idBytes);
    saveCollection(ttx, { ...described, name, id });
    ttx.set(collectionKeys(id).pendingFlag, new Uint8Array(0));
    clearMarker(tx, claim);
    return { tenantId: t.id, collectionId: id, replaced: old !== undefined };
  });
}

function clearMarker(tx: Transaction, claim: RestoreClaim): void {
  tx.clear(markerKey(claim));
}

/**
 * The collection a snapshot describes, checked for the shape the record layer stores before anything
 * is claimed (the file's crcs guard against damage, this against a file made by hand).
 */
function describedCollection(header: SnapshotHeader): Omit<StoredCollection, 'name' | 'id'> {
  const d = header.collection_config as Record<string, unknown>;
  const config = d['config'] as Record<string, unknown> | undefined;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const refuse = (why: string): never => {
    throw invalid('header', 0, `the header does not describe a collection Strata can store: ${why}`);
  };
  if (!isObject(config) || !isObject(config['vectors']) || !isObject(config['hnsw']) || !isObject(d['indexes']) || !Array.isArray(d['shardKeys'])) {
    return refuse('a part is missing');
  }
  // A file is input from outside: every setting is held to the bounds a create or PATCH would be
  // (a graph with m of a billion would take the indexer down).
  try {
    for (const v of Object.values(config['vectors'])) {
      if (!isObject(v) || !Number.isSafeInteger(v['size']) || (v['size'] as number) < 1 || (v['size'] as number) > MAX_VECTOR_SIZE || !DISTANCES.includes(v['distance'] as Distance)) refuse('a vector’s size or distance');
    }
    parseHnsw('hnsw', config['hnsw'], HNSW_DEFAULTS);
    if (config['strict'] !== undefined) parseStrictMode(config['strict']);
  } catch (err) {
    if (isStrataError(err, 'ERR_SNAPSHOT_INVALID')) throw err;
    refuse(err instanceof Error ? err.message : String(err));
  }
  for (const schema of Object.values(d['indexes'])) {
    if (!isObject(schema) || !INDEX_TYPES.includes(schema['type'] as IndexType) || !isObject(schema['params'])) refuse('a payload index');
  }
  if (!d['shardKeys'].every(k => typeof k === 'string' || typeof k === 'number')) refuse('a shard key');
  return { config: config as unknown as StoredCollection['config'], indexes: d['indexes'] as StoredCollection['indexes'], shardKeys: d['shardKeys'] as StoredCollection['shardKeys'] };
}

const PLUS_ONE = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]);
