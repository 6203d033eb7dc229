import type { Transaction } from '../kv/types.js';
import { pack, unpack } from '../kv/tuple.js';
import { COLLECTION_DATA, collectionKeys, PART, TENANT_BYTES_KEY, TENANT_POINTS_KEY } from '../../layers/record/layout.js';
import { counterDelta } from '../../layers/record/usage.js';
import type { SnapshotKind } from './format.js';

/**
 * The usage counters of what a restore writes, recomputed from the records and vectors themselves.
 * A snapshot's own counters are never restored: a crafted file could claim a collection of a million
 * points holds none (and slip past its tenant's quota), and a snapshot read in pages on FoundationDB
 * may hold counters from another moment than its points.
 */

interface Usage {
  points: number;
  payloadBytes: number;
  vectorBytes: number;
}

/** Relative to a collection's data subspace. */
const POINTS = pack([PART.points]);
const VECTORS = pack([PART.vectors]);
const COUNT = pack([PART.count]);
const USAGE = pack([PART.usage]);
const DATA = COLLECTION_DATA.prefix;

function startsWith(key: Uint8Array, prefix: Uint8Array, at = 0): boolean {
  if (key.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[at + i] !== prefix[i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, b);
}

export class UsageTally {
  readonly #kind: SnapshotKind;
  readonly #collections = new Map<number, Usage>();

  constructor(kind: SnapshotKind) {
    this.#kind = kind;
  }

  /**
   * Count a pair the restore is about to write (its key relative to the tenant, or to the
   * collection's data subspace); false when it is a counter, which is left out and written anew.
   */
  see(key: Uint8Array, valueLength: number): boolean {
    if (this.#kind === 'collection') return this.#seeInCollection(0, key, 0, valueLength);
    if (sameBytes(key, TENANT_POINTS_KEY) || sameBytes(key, TENANT_BYTES_KEY)) return false;
    if (!startsWith(key, DATA)) return true;
    const [id] = unpack(key.subarray(DATA.length)) as [unknown];
    if (typeof id !== 'number' && typeof id !== 'bigint') return true;
    // The id's tuple item takes the byte after the prefix and the integer's own bytes.
    const idLength = pack([id]).length;
    return this.#seeInCollection(Number(id), key, DATA.length + idLength, valueLength);
  }

  #seeInCollection(id: number, key: Uint8Array, at: number, valueLength: number): boolean {
    if (startsWith(key, COUNT, at) || startsWith(key, USAGE, at)) return false;
    let u = this.#collections.get(id);
    if (u === undefined) this.#collections.set(id, (u = { points: 0, payloadBytes: 0, vectorBytes: 0 }));
    if (startsWith(key, POINTS, at) && key.length > at + POINTS.length) {
      u.points++;
      u.payloadBytes += valueLength;
    } else if (startsWith(key, VECTORS, at)) u.vectorBytes += valueLength;
    return true;
  }

  /**
   * Write the counters into `tx` (the restored tenant's, or its tenant's for a collection restored
   * under `collectionId`): each collection's, and for a tenant restore the tenant's totals.
   */
  write(tx: Transaction, collectionId?: number): void {
    let points = 0;
    let bytes = 0;
    for (const [id, u] of this.#collections) {
      const keys = collectionKeys(collectionId ?? id);
      tx.set(keys.count, counterDelta(u.points));
      tx.set(keys.payloadBytes, counterDelta(u.payloadBytes));
      tx.set(keys.vectorBytes, counterDelta(u.vectorBytes));
      points += u.points;
      bytes += u.payloadBytes + u.vectorBytes;
    }
    if (this.#kind === 'tenant') {
      tx.set(TENANT_POINTS_KEY, counterDelta(points));
      tx.set(TENANT_BYTES_KEY, counterDelta(bytes));
    }
  }
}
