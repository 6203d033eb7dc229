import { StrataError } from '../../src/errors.js';

/**
 * Payload scopes: a token scoped to `{field: value, …}` in a collection sees and writes only the
 * points whose payload holds exactly those values at those top-level fields (DESIGN §4, beyond
 * Qdrant, which dropped its `payload` claim because writes under it were unsolved).
 *
 * Reads: a point is visible only when {@link inScope}. Writes: a new or replaced payload must carry
 * the scoped values (filled in when missing, refused when different: {@link withScope}); nothing may
 * remove or change them ({@link checkKeepsScope}).
 */

/** A scalar a scope pins. */
export type ScopeValue = string | number | boolean;

/** Field → value: the points a scoped token may reach. */
export type PayloadScope = Readonly<Record<string, ScopeValue>>;

/** True when `payload` holds every scoped value exactly (an array holding it does not count). */
export function inScope(scope: PayloadScope | undefined, payload: Readonly<Record<string, unknown>>): boolean {
  if (scope === undefined) return true;
  for (const [field, value] of Object.entries(scope)) {
    // Own properties only: an inherited one (a "__proto__" trick) is not a stored field.
    if (!Object.hasOwn(payload, field) || payload[field] !== value) return false;
  }
  return true;
}

function refuse(message: string): never {
  throw new StrataError('ERR_ACCESS_PAYLOAD_SCOPE', message);
}

/**
 * `payload` with the scoped values filled in where missing; `ERR_ACCESS_PAYLOAD_SCOPE` when it holds
 * another value for a scoped field. Returns a new object: the caller's is not changed.
 */
export function withScope(scope: PayloadScope | undefined, payload: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (scope === undefined) return { ...payload };
  const out: Record<string, unknown> = { ...payload };
  for (const [field, value] of Object.entries(scope)) {
    if (!Object.hasOwn(payload, field)) defineField(out, field, value);
    else if (payload[field] !== value) refuse(`the token may only write points whose ${JSON.stringify(field)} is ${JSON.stringify(value)}`);
  }
  return out;
}

/** Refuse a change from `before` to `after` that removes or alters a scoped field. */
export function checkKeepsScope(scope: PayloadScope | undefined, after: Readonly<Record<string, unknown>>): void {
  if (scope === undefined) return;
  for (const [field, value] of Object.entries(scope)) {
    if (!Object.hasOwn(after, field) || after[field] !== value) refuse(`the token may not change or remove the scoped field ${JSON.stringify(field)}`);
  }
}

/** Set `field` as an own property, whatever its name ("__proto__" included). */
export function defineField(target: Record<string, unknown>, field: string, value: unknown): void {
  Object.defineProperty(target, field, { value, enumerable: true, writable: true, configurable: true });
}
