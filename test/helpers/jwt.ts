/** Test helpers for keys and tokens: key pairs, JWK Set files, signed and hand-crafted tokens. */
import { writeFile } from 'node:fs/promises';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { KeySetLogger } from '../../src/auth/keyset.js';

/** A signing key pair with its public JWK (kid and alg set). */
export interface TestKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'RS256';
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
}

/** Generate a key pair for `alg` under `kid`. */
export async function makeKey(alg: 'ES256' | 'RS256', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    kid,
    alg,
    privateKey,
    publicJwk: { kid, alg, use: 'sig', ...(await exportJWK(publicKey)) },
    privateJwk: { kid, alg, use: 'sig', ...(await exportJWK(privateKey)) },
  };
}

/** Write a JWK Set file holding `keys` (JWKs or anything else, for malformed sets). */
export async function writeJwks(path: string, keys: readonly unknown[]): Promise<void> {
  await writeFile(path, JSON.stringify({ keys }));
}

/** Base64 (standard, padded) of a tenant name's UTF-8, as tokens carry it. */
export const b64 = (name: string | Uint8Array): string => Buffer.from(name).toString('base64');

/** Valid claims for `tenants` at `nowSeconds`, lasting an hour; spread overrides over them. */
export function claims(nowSeconds: number, tenants: readonly string[] = ['acme']): Record<string, unknown> {
  return { tenants: tenants.map(t => b64(t)), iat: nowSeconds, nbf: nowSeconds, exp: nowSeconds + 3600 };
}

/**
 * Sign `payload` (an object, or raw text) with `key`, header `{alg, typ: 'JWT', kid}` plus `header`
 * (a member set to undefined is removed). Signed with WebCrypto directly rather than jose, which
 * would refuse to produce some of the odd headers the adversarial tests need.
 */
export async function sign(key: TestKey, payload: unknown, header: Record<string, unknown> = {}): Promise<string> {
  const merged = Object.fromEntries(Object.entries({ alg: key.alg, typ: 'JWT', kid: key.kid, ...header }).filter(([, v]) => v !== undefined));
  const input = `${seg(merged)}.${seg(payload)}`;
  const algorithm = key.alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
  // WebCrypto's ECDSA signature is r || s, which is what JWS wants (not DER).
  const signature = await crypto.subtle.sign(algorithm, key.privateKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

const seg = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A compact JWS assembled by hand: header, payload and signature as given (no signing). */
export function craft(header: unknown, payload: unknown, signature = ''): string {
  return `${seg(header)}.${seg(payload)}.${signature}`;
}

/** A logger that keeps what it is told. */
export function memoryLogger(): KeySetLogger & { readonly lines: { level: 'warn' | 'error'; obj: object; msg: string }[] } {
  const lines: { level: 'warn' | 'error'; obj: object; msg: string }[] = [];
  return {
    lines,
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
  };
}
