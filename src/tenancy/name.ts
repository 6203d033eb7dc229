import { StrataError } from '../errors.js';

/** Longest tenant name, in bytes of UTF-8. */
export const TENANT_NAME_MAX_BYTES = 255;

// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
// In a `u` regex a paired surrogate is one code point, so this matches only unpaired ones.
// (String#isWellFormed would do, but it is not in the ES2023 library Node 20 targets here.)
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Check a tenant name (DESIGN §3): 1-255 bytes of UTF-8 and no control characters. Returns its
 * UTF-8 bytes, which is what the registry stores. A string with an unpaired surrogate has no UTF-8
 * form, and encoding it would silently change it, so it is refused too.
 */
export function tenantNameBytes(name: string): Uint8Array {
  if (typeof name !== 'string' || name.length === 0) throw invalid('a tenant name must not be empty', name);
  if (LONE_SURROGATE.test(name)) throw invalid('a tenant name must be valid Unicode', name);
  if (CONTROL.test(name)) throw invalid('a tenant name must not contain control characters', name);
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > TENANT_NAME_MAX_BYTES) {
    throw invalid(`a tenant name must be at most ${TENANT_NAME_MAX_BYTES} bytes of UTF-8, got ${bytes.length}`, name);
  }
  return bytes;
}

function invalid(message: string, name: unknown): StrataError {
  // Never echo a control character back: it could forge log lines.
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 64)) : typeof name;
  return new StrataError('ERR_TENANT_NAME_INVALID', `${message}: ${shown}`);
}
