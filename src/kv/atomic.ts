/**
 * FoundationDB's ADD mutation: little-endian addition at the parameter's width. A missing or
 * shorter existing value is zero-extended; a longer one is truncated; the carry out of the last
 * byte is dropped.
 */
export function addLittleEndian(existing: Uint8Array | undefined, param: Uint8Array): Uint8Array {
  const out = new Uint8Array(param.length);
  let carry = 0;
  for (let i = 0; i < param.length; i++) {
    const sum = (existing !== undefined && i < existing.length ? (existing[i] as number) : 0) + (param[i] as number) + carry;
    out[i] = sum & 0xff;
    carry = sum >> 8;
  }
  return out;
}
