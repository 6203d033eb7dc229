import { StrataError } from '../errors.js';
import type { AccessClaim, CollectionAccess, ScalarValue } from './claims.js';

/**
 * What a token may do with a collection, read as Qdrant reads its JWT `access` claim, plus Strata's
 * extensions (collection patterns ending in `*`, payload scopes that hold for writes too):
 * - absent: everything in the token's tenants, collection management included;
 * - `"m"`: the same (manage); `"r"`: read only, everywhere in the tenants;
 * - a list of `{collection, access}`: only those collections; `r` reads, `rw` reads and writes
 *   points and payload indexes, `prw` reads and writes points only; never collection management;
 *   with `payload`, only the points carrying those values, and nothing collection-wide.
 */

/** What an operation needs. */
export type CollectionNeed =
  /** Read points, count, search, collection info. */
  | 'read'
  /** Write points (upsert, delete, payload, vectors). */
  | 'write'
  /** Create or delete payload indexes. */
  | 'index'
  /** Create, update or delete the collection, or its shard keys. */
  | 'manage';

/** What a caller holds for an operation it may do: the payload scope it must stay within, if any. */
export interface CollectionGrant {
  readonly scope?: Readonly<Record<string, ScalarValue>>;
}

const FULL: CollectionGrant = Object.freeze({});

/** The access item that covers `collection`: an exact name first, else the longest `*` prefix. */
export function accessItemFor(list: readonly CollectionAccess[], collection: string): CollectionAccess | undefined {
  const exact = list.find(item => item.collection === collection);
  if (exact !== undefined) return exact;
  let best: CollectionAccess | undefined;
  for (const item of list) {
    if (!item.collection.endsWith('*')) continue;
    const prefix = item.collection.slice(0, -1);
    if (collection.startsWith(prefix) && (best === undefined || prefix.length > best.collection.length - 1)) best = item;
  }
  return best;
}

/**
 * Check that a caller with `access` (undefined for trusted or tokenless callers, and for tokens
 * without the claim) may do `need` on `collection`; returns its payload scope there, if any.
 */
export function grantFor(access: AccessClaim | undefined, collection: string, need: CollectionNeed): CollectionGrant {
  if (access === undefined || access === 'm') return FULL;
  if (access === 'r') {
    if (need === 'read') return FULL;
    if (need === 'manage') throw manageRequired();
    throw new StrataError('ERR_ACCESS_READ_ONLY', `Write access to collection ${collection} is required`);
  }
  if (need === 'manage') throw manageRequired();
  const item = accessItemFor(access, collection);
  if (item === undefined) throw new StrataError('ERR_ACCESS_COLLECTION_DENIED', `Access to collection ${collection} is required`, { details: { collection } });
  if (need !== 'read' && item.access === 'r') throw new StrataError('ERR_ACCESS_READ_ONLY', `Write access to collection ${collection} is required`);
  if (need === 'index' && (item.access === 'prw' || item.payload !== undefined)) {
    throw new StrataError('ERR_ACCESS_MANAGE_REQUIRED', `Only points access is allowed for collection ${collection}`);
  }
  return item.payload === undefined ? FULL : { scope: item.payload };
}

/** True when `access` lets its holder see `collection` at all (for listing collections). */
export function canSeeCollection(access: AccessClaim | undefined, collection: string): boolean {
  return !Array.isArray(access) || accessItemFor(access, collection) !== undefined;
}

function manageRequired(): StrataError {
  return new StrataError('ERR_ACCESS_MANAGE_REQUIRED', 'Manage access for this operation is required');
}
