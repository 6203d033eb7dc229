import { StrataError } from '../errors.js';
import { concatBytes, prefixEnd } from '../kv/keys.js';
import type { Database, Transaction } from '../kv/types.js';
import { decodeTenantId, encodeTenantId, RESTORE_MARKERS, TENANT_BY_ID, TENANT_LAST_ID_KEY, tenantPrefix } from '../tenancy/layout.js';
import { requireTenant } from '../tenancy/registry.js';
import { TenantTransaction } from '../tenancy/scoped.js';
import { COLLECTION_CONFIG, COLLECTION_LAST_ID_KEY, collectionKeys } from '../../layers/record/layout.js';

/**
 * A restore's claim on the fresh id it writes under. The id is allocated and a marker recorded in
 * Strata's system subspace in one transaction, before any data is written; the switch that makes
 * the data live clears the marker in its own transaction. So data under a marked id is an
 * unfinished restore's, and a marker whose heartbeat has gone stale belongs to a restore that died:
 * {@link cleanOrphanRestores} removes its data and the marker.
 */

/** A claimed id: a new tenant's, or a new collection's within a tenant. */
export type RestoreClaim =
  | { readonly kind: 'tenant'; readonly tenantId: bigint }
  | { readonly kind: 'collection'; readonly tenantId: bigint; readonly collectionId: number };

/** What a marker records. */
interface Marker {
  /** The tenant (or collection) the restore will switch. */
  readonly target: string;
  readonly started_at: number;
  readonly heartbeat_at: number;
}

/** A restore that has not shown a heartbeat for this long is taken for dead (default 2 minutes). */
export const STALE_AFTER_MS = 120_000;
/** How often a live restore refreshes its heartbeat: far inside {@link STALE_AFTER_MS}. */
export const HEARTBEAT_MS = 10_000;

/** The marker key of a claim. */
export function markerKey(claim: RestoreClaim): Uint8Array {
  return claim.kind === 'tenant' ? RESTORE_MARKERS.pack(['tenant', claim.tenantId]) : RESTORE_MARKERS.pack(['collection', claim.tenantId, claim.collectionId]);
}

/** The keys a claim's restore writes: all of a fresh tenant, or a fresh collection's data subspace. */
export function claimRange(claim: RestoreClaim): { begin: Uint8Array; end: Uint8Array } {
  const prefix = tenantPrefix(claim.tenantId);
  const begin = claim.kind === 'tenant' ? prefix : concatBytes(prefix, collectionKeys(claim.collectionId).data.prefix);
  return { begin, end: prefixEnd(begin) };
}

function marker(target: string, startedAt: number, now: number): Uint8Array {
  return Buffer.from(JSON.stringify({ target, started_at: startedAt, heartbeat_at: now } satisfies Marker));
}

/** Allocate a fresh tenant id (never reused, as the registry's) and mark it as being restored. */
export async function claimTenantId(db: Database, target: string, now: () => number): Promise<RestoreClaim> {
  return db.transact(async tx => {
    const last = await tx.get(TENANT_LAST_ID_KEY);
    const tenantId = (last === undefined ? 0n : decodeTenantId(last)) + 1n;
    tx.set(TENANT_LAST_ID_KEY, encodeTenantId(tenantId));
    const claim: RestoreClaim = { kind: 'tenant', tenantId };
    tx.set(markerKey(claim), marker(target, now(), now()));
    return claim;
  });
}

/** Allocate a fresh collection id in tenant `tenant` (which must exist) and mark it as being restored. */
export async function claimCollectionId(db: Database, tenant: string, collection: string, now: () => number): Promise<RestoreClaim> {
  return db.transact(async tx => {
    const { id: tenantId, prefix } = await requireTenant(tx, tenant);
    const ttx = new TenantTransaction(tx, prefix);
    const last = await ttx.get(COLLECTION_LAST_ID_KEY);
    const collectionId = (last === undefined ? 0 : Number(Buffer.from(last).readBigUInt64BE())) + 1;
    const next = Buffer.alloc(8);
    next.writeBigUInt64BE(BigInt(collectionId));
    ttx.set(COLLECTION_LAST_ID_KEY, next);
    const claim: RestoreClaim = { kind: 'collection', tenantId, collectionId };
    tx.set(markerKey(claim), marker(collection, now(), now()));
    return claim;
  });
}

/**
 * Check, inside `tx`, that the claim still stands (its marker was not cleaned as an orphan). The read
 * conflicts with a cleanup that removes the marker concurrently, so data is never written after one.
 */
export async function requireClaim(tx: Transaction, claim: RestoreClaim): Promise<void> {
  if ((await tx.get(markerKey(claim))) === undefined) {
    throw new StrataError('ERR_SNAPSHOT_RESTORE_ABORTED', 'the restore’s claim was removed (taken for an orphan) before it finished; nothing was switched', {
      details: { kind: claim.kind },
    });
  }
}

/** Refresh the claim's heartbeat, inside `tx` (after {@link requireClaim}). */
export async function touchClaim(tx: Transaction, claim: RestoreClaim, now: number): Promise<void> {
  const raw = await tx.get(markerKey(claim));
  const m = raw === undefined ? undefined : parseMarker(raw);
  if (m !== undefined) tx.set(markerKey(claim), marker(m.target, m.started_at, now));
}

/** Give a claim up: its data and its marker go (when the marker is still there: it is still ours). */
export async function abandonClaim(db: Database, claim: RestoreClaim): Promise<void> {
  await db.transact(async tx => {
    if ((await tx.get(markerKey(claim))) === undefined) return;
    clearClaim(tx, claim);
  });
}

/** Clear a claim's data and marker (and, for a collection, the flag the switch would have set). */
function clearClaim(tx: Transaction, claim: RestoreClaim): void {
  const { begin, end } = claimRange(claim);
  tx.clearRange(begin, end);
  if (claim.kind === 'collection') tx.clear(concatBytes(tenantPrefix(claim.tenantId), collectionKeys(claim.collectionId).pendingFlag));
  tx.clear(markerKey(claim));
}

/** Options of {@link cleanOrphanRestores}. */
export interface CleanOptions {
  readonly now?: () => number;
  /** Markers older than this (by heartbeat) are orphans (default {@link STALE_AFTER_MS}). */
  readonly staleAfterMs?: number;
}

/**
 * Remove what restores that died left: for each marker whose heartbeat is stale, the data under its
 * id and the marker, in one transaction that first checks the id never went live (a registered tenant
 * id, or a collection id with a config, keeps its data). Returns how many were cleaned. Run at the
 * start of every restore and when the server starts.
 */
export async function cleanOrphanRestores(db: Database, options: CleanOptions = {}): Promise<number> {
  const now = options.now ?? Date.now;
  const staleAfter = options.staleAfterMs ?? STALE_AFTER_MS;
  const { begin, end } = RESTORE_MARKERS.range();
  const markers = await db.transact(async tx => (await tx.getRange(begin, end, { snapshot: true })).kvs);
  let cleaned = 0;
  for (const { key } of markers) {
    const claim = claimOf(key);
    if (claim === undefined) continue;
    const done = await db.transact(async tx => {
      const raw = await tx.get(key);
      const m = raw === undefined ? undefined : parseMarker(raw);
      if (raw === undefined || (m !== undefined && m.heartbeat_at >= now() - staleAfter)) return false;
      if (await isLive(tx, claim)) tx.clear(key);
      else clearClaim(tx, claim);
      return true;
    });
    if (done) cleaned++;
  }
  return cleaned;
}

/** True when the claimed id went live after all (its marker then only needs removing). */
async function isLive(tx: Transaction, claim: RestoreClaim): Promise<boolean> {
  if (claim.kind === 'tenant') return (await tx.get(TENANT_BY_ID.pack([encodeTenantId(claim.tenantId)]))) !== undefined;
  return (await tx.get(concatBytes(tenantPrefix(claim.tenantId), COLLECTION_CONFIG.pack([claim.collectionId])))) !== undefined;
}

function claimOf(key: Uint8Array): RestoreClaim | undefined {
  const [kind, tenant, collection] = RESTORE_MARKERS.unpack(key);
  if (kind === 'tenant' && (typeof tenant === 'number' || typeof tenant === 'bigint')) return { kind, tenantId: BigInt(tenant) };
  if (kind === 'collection' && (typeof tenant === 'number' || typeof tenant === 'bigint') && typeof collection === 'number') {
    return { kind, tenantId: BigInt(tenant), collectionId: collection };
  }
  return undefined;
}

function parseMarker(raw: Uint8Array): Marker | undefined {
  try {
    const m = JSON.parse(Buffer.from(raw).toString('utf8')) as Marker;
    return typeof m.heartbeat_at === 'number' && typeof m.target === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}
