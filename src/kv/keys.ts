/** Byte-key helpers used on both sides of the contract. */

/** Concatenate byte strings. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** The first key after `key` in the ordering: `key + \x00`. */
export function keyAfter(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

/**
 * The first key that does not start with `prefix` (FoundationDB's `strinc`): drop trailing `\xff`
 * bytes and increment the last byte. Throws `RangeError` for a prefix of only `\xff` bytes, which
 * has no successor.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) throw new RangeError('a prefix of only \\xff bytes has no end');
  const out = new Uint8Array(prefix.subarray(0, n)); // a copy: Buffer#slice would alias the caller's prefix
  out[n - 1] = (out[n - 1] as number) + 1;
  return out;
}

/** True when `key` starts with `prefix`. */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/**
 * A copy of `bytes` that shares no memory with it. (`Buffer#slice` returns a view, so `.slice()`
 * on a caller's Buffer would not protect a buffered write from later changes to it.)
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
