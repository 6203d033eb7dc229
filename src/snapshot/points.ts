import { pack } from '../kv/tuple.js';
import { COLLECTION_DATA, PART } from '../../layers/record/layout.js';
import type { SnapshotKind } from './format.js';

/**
 * Which snapshot keys are points: a point is one record key of the record layer, (3, id, 0,
 * point) in a tenant, (0, point) relative to a collection's data subspace. Recognised from the
 * bytes alone (the tuple codes), since every key of a snapshot passes through here.
 */

const DATA = COLLECTION_DATA.prefix;
const POINTS = pack([PART.points]);
/** Tuple codes of non-negative integers: 0x14 is zero, 0x15-0x1c carry 1-8 bytes. */
const INT_ZERO = 0x14;
const INT_MAX_CODE = 0x1c;

function startsWith(key: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (key.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[at + i] !== prefix[i]) return false;
  return true;
}

/** True when `key` (from byte `from` on: relative to a tenant's prefix) is a point's record. */
export function isTenantPointKey(key: Uint8Array, from = 0): boolean {
  if (!startsWith(key, DATA, from)) return false;
  const code = key[from + DATA.length];
  if (code === undefined || code < INT_ZERO || code > INT_MAX_CODE) return false;
  const at = from + DATA.length + 1 + (code - INT_ZERO);
  return startsWith(key, POINTS, at) && key.length > at + POINTS.length;
}

/** True when `key` (from byte `from` on: relative to a collection's data subspace) is a point's record. */
export function isCollectionPointKey(key: Uint8Array, from = 0): boolean {
  return startsWith(key, POINTS, from) && key.length > from + POINTS.length;
}

/** The point test for keys of a snapshot of `kind`. */
export function pointKeyTest(kind: SnapshotKind): (key: Uint8Array, from?: number) => boolean {
  return kind === 'tenant' ? isTenantPointKey : isCollectionPointKey;
}
