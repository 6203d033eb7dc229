import { StrataError } from '../../src/errors.js';

/**
 * Point ids, as Qdrant has them and a little beyond: an unsigned integer, a UUID, or (beyond Qdrant,
 * so that ids like `f"{tenant_id}_{i}"` work) any other string of 1 to 256 bytes.
 *
 * Ids are normalized once, at the boundary: a UUID in any of the forms Qdrant accepts (hyphenated,
 * 32 hex digits, braced, `urn:uuid:`) becomes its lowercase hyphenated form, the form Qdrant answers
 * with, so `has_id`, retrieval and deletion agree however a client wrote the id.
 *
 * Integers are limited to 2^53 - 1: JSON numbers above that reach JavaScript rounded, so such an id
 * could silently name another point; it is refused instead (Qdrant allows up to 2^64 - 1).
 */

/** A normalized point id: a non-negative safe integer, or a string (canonical UUID or opaque). */
export type PointId = number | string;

/** The longest opaque string id, in UTF-8 bytes. */
export const MAX_STRING_ID_BYTES = 256;

const UUID_HYPHENATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_SIMPLE = /^[0-9a-f]{32}$/i;

/** The canonical UUID that `s` spells, or undefined when it spells none. */
export function canonicalUuid(s: string): string | undefined {
  let body = s;
  if (body.length === 45 && body.slice(0, 9).toLowerCase() === 'urn:uuid:') body = body.slice(9);
  else if (body.length === 38 && body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1);
  if (UUID_HYPHENATED.test(body)) return body.toLowerCase();
  if (UUID_SIMPLE.test(body)) {
    const h = body.toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return undefined;
}

/** A canonical UUID as a tuple UUID item (0x30): how ids and uuid index values are packed. */
export function uuidTupleItem(canonical: string): { type: 'uuid'; value: Buffer } {
  return { type: 'uuid', value: Buffer.from(canonical.replaceAll('-', ''), 'hex') };
}

/** True when `id` (normalized) is a UUID rather than an opaque string or integer. */
export function isUuidId(id: PointId): id is string {
  return typeof id === 'string' && id.length === 36 && UUID_HYPHENATED.test(id) && id === id.toLowerCase();
}

/**
 * The normalized id of `value` as a client sent it; `ERR_POINT_ID_INVALID` when it is none.
 *
 * @example
 * parsePointId(7) // 7
 * parsePointId('{550E8400-E29B-41D4-A716-446655440000}') // '550e8400-e29b-41d4-a716-446655440000'
 * parsePointId('acme_17') // 'acme_17'
 */
export function parsePointId(value: unknown): PointId {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw invalidId(
      Number.isInteger(value) && value > 0
        ? `point id ${value} is above 2^53 - 1, the largest integer id JSON can carry exactly here; use a UUID or a string id`
        : `point id ${String(value)} is not an unsigned integer, a UUID or a string`,
    );
  }
  if (typeof value === 'string') {
    const uuid = canonicalUuid(value);
    if (uuid !== undefined) return uuid;
    if (value === '') throw invalidId('a point id must not be empty');
    if (Buffer.byteLength(value) > MAX_STRING_ID_BYTES) throw invalidId(`a string point id may be at most ${MAX_STRING_ID_BYTES} bytes`);
    return value;
  }
  throw invalidId('a point id must be an unsigned integer, a UUID or a string');
}

function invalidId(message: string): StrataError<'ERR_POINT_ID_INVALID'> {
  return new StrataError('ERR_POINT_ID_INVALID', message);
}
