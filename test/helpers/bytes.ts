/** Test helpers for building keys and values. */
export const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');
export const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('latin1'));
export const u64 = (n: number | bigint): Uint8Array => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
export const readU64 = (b: Uint8Array | undefined): bigint => (b === undefined ? 0n : Buffer.from(b).readBigUInt64LE());
export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));
