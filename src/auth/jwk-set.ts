import { importJWK, type CryptoKey, type JWK } from 'jose';
import { StrataError } from '../errors.js';

/**
 * Reading a JWK Set document (RFC 7517 §5) into the keys tokens may be verified with, and the rules
 * every key must pass (DESIGN §4). Shared by the JWK Set file ({@link KeySet} in `keyset.ts`) and
 * the identity providers' JWKS URLs (`remote-keyset.ts`), so both accept exactly the same keys.
 */

/** The token algorithms Strata accepts, one per key type. */
export const KEY_ALGORITHMS = ['ES256', 'RS256'] as const;

/** `ES256` (EC P-256) or `RS256` (RSA). */
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Smallest RSA modulus accepted, in bits (NIST SP 800-131A). */
export const MIN_RSA_BITS = 2048;

/** Where key sets report skipped keys and invalid documents; a pino logger fits. */
export interface KeySetLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * One usable key. The object stays the same across reloads for as long as the set holds the same
 * key under the same kid, so a cache may compare it by identity to learn whether its key survived.
 */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly key: CryptoKey;
  /** The public JWK as the set gives it, private members removed. */
  readonly jwk: Readonly<JWK>;
}

/**
 * A key of an external identity provider: it verifies only tokens whose `iss` is the provider's
 * and whose `aud` includes `audience`, and their tenants come from `tenantsClaim`.
 */
export interface ProviderKey extends VerificationKey {
  readonly issuer: string;
  readonly audience: string;
  /** `tenants` (base64 names, as Strata's own tokens) or another claim holding plain tenant names. */
  readonly tenantsClaim: string;
}

/** True when `key` is bound to one identity provider (a {@link ProviderKey}). */
export function isProviderKey(key: VerificationKey): key is ProviderKey {
  return typeof (key as Partial<ProviderKey>).issuer === 'string';
}

/** A key in force with the fingerprint it was imported from. */
export interface HeldKey<K extends VerificationKey = VerificationKey> {
  readonly key: K;
  /** The members that identify the key: equal fingerprints, same key. */
  readonly fingerprint: string;
}

/** Where a document comes from, for messages and log lines. */
export interface JwkSetSource {
  /** How messages name it, e.g. `the JWK Set file`. */
  readonly noun: string;
  /** Which one, e.g. the path or URL; follows `noun` in error messages. */
  readonly where: string;
  /** Merged into every log line about it, e.g. `{ path }`. */
  readonly context: Readonly<Record<string, unknown>>;
}

/** Options of {@link importJwkSet}. */
export interface ImportJwkSetOptions<K extends VerificationKey> {
  readonly source: JwkSetSource;
  readonly logger: KeySetLogger;
  /** The keys in force: a key still listed unchanged is reused (same object), not imported again. */
  readonly previous: ReadonlyMap<string, HeldKey<K>>;
  /** Turns a newly imported key into what the set holds (frozen by the caller's choice). */
  readonly make: (key: VerificationKey) => K;
}

// JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

interface Candidate {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly jwk: JWK;
  readonly fingerprint: string;
}

/** An `ERR_AUTH_KEYSET_INVALID` naming `source`. */
export function invalidJwkSet(source: JwkSetSource, why: string, cause?: unknown): StrataError<'ERR_AUTH_KEYSET_INVALID'> {
  return new StrataError('ERR_AUTH_KEYSET_INVALID', `${source.noun} ${source.where} ${why}`, cause === undefined ? {} : { cause });
}

/**
 * Parse a JWK Set document and import its usable keys by kid. A document that is not JSON, has no
 * `keys` list, repeats a kid, or lists keys none of which is usable rejects with
 * `ERR_AUTH_KEYSET_INVALID`; an empty `keys` list is valid (no key). Unusable keys are skipped with
 * a warning each, so one odd key never withdraws the others.
 */
export async function importJwkSet<K extends VerificationKey>(text: string, options: ImportJwkSetOptions<K>): Promise<Map<string, HeldKey<K>>> {
  const { source } = options;
  let doc: unknown;
  try {
    // Editors on some systems start the file with a byte-order mark, which JSON.parse refuses.
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    // Not the parser's error as the cause: its message quotes the text, which may hold private keys.
    throw invalidJwkSet(source, 'is not JSON');
  }
  const keys = typeof doc === 'object' && doc !== null ? (doc as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw invalidJwkSet(source, 'has no "keys" list');
  const candidates = keys.flatMap((entry: unknown, index) => {
    const c = candidate(entry, index, options);
    return c === undefined ? [] : [c];
  });
  const imported = await Promise.all(candidates.map(c => importCandidate(c, options)));
  const next = new Map<string, HeldKey<K>>();
  candidates.forEach((c, i) => {
    const key = imported[i];
    if (key === undefined) return;
    // Two keys under one kid leave a token's key ambiguous: refuse the set rather than guess.
    if (next.has(c.kid)) throw invalidJwkSet(source, `lists kid ${JSON.stringify(c.kid)} twice`);
    next.set(c.kid, { key, fingerprint: c.fingerprint });
  });
  if (keys.length > 0 && next.size === 0) throw invalidJwkSet(source, 'holds no usable key (see the warnings above)');
  return next;
}

/**
 * The keys a key set holds and the outcome of its loads, kept one way for the JWK Set file and the
 * identity providers alike: the generation moves only when the keys change, and a failed load
 * keeps the keys and records why.
 */
export class KeyHolder<K extends VerificationKey> {
  #keys: ReadonlyMap<string, HeldKey<K>> = new Map();
  #generation = 0;
  #lastReload: number | undefined;
  #lastError: StrataError | undefined;

  /** The keys in force by kid, in the set's order. */
  get keys(): ReadonlyMap<string, HeldKey<K>> {
    return this.#keys;
  }

  /** Bumped whenever a load adds, removes or replaces a key. */
  get generation(): number {
    return this.#generation;
  }

  /** When the set was last loaded successfully, epoch ms; undefined before the first. */
  get lastReload(): number | undefined {
    return this.#lastReload;
  }

  /** Why the last load failed, or undefined when it succeeded. */
  get lastError(): StrataError | undefined {
    return this.#lastError;
  }

  /** Record a successful load at `now`; true when the keys changed (a kid added or removed, a key replaced). */
  loaded(next: ReadonlyMap<string, HeldKey<K>>, now: number): boolean {
    this.#lastError = undefined;
    this.#lastReload = now;
    const previous = this.#keys;
    const changed = next.size !== previous.size || [...next].some(([kid, held]) => previous.get(kid)?.key !== held.key);
    if (changed) {
      this.#keys = next;
      this.#generation++;
    }
    return changed;
  }

  /**
   * Record a failed load: the keys stay in force. `err` becomes the `ERR_AUTH_KEYSET_INVALID` it
   * returns (a StrataError as it is, anything else with `message` and `err` as the cause).
   */
  failed(err: unknown, message: string): StrataError {
    const error = err instanceof StrataError ? err : new StrataError('ERR_AUTH_KEYSET_INVALID', message, { cause: err });
    this.#lastError = error;
    return error;
  }
}

/** Check one JWK; undefined (with a warning) when it cannot be used. */
function candidate<K extends VerificationKey>(entry: unknown, index: number, { source, logger }: ImportJwkSetOptions<K>): Candidate | undefined {
  const skip = (why: string, kid?: string): undefined => {
    logger.warn({ ...source.context, index, ...(kid === undefined ? {} : { kid }) }, `skipped a key in ${source.noun}: ${why}`);
    return undefined;
  };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return skip('not a JSON object');
  const jwk = { ...(entry as JWK) };
  const kid = jwk.kid;
  if (typeof kid !== 'string' || kid === '') return skip('it has no kid');
  const found = PRIVATE_MEMBERS.filter(m => Object.hasOwn(jwk, m));
  if (found.length > 0) {
    for (const m of found) delete jwk[m];
    logger.warn(
      { ...source.context, kid, members: found },
      `${source.noun} holds private key material; it was dropped and only the public key is used (keep private keys out of it)`,
    );
  }
  let alg: KeyAlgorithm;
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') alg = 'ES256';
  else if (jwk.kty === 'RSA') alg = 'RS256';
  else return skip(`unsupported key type ${JSON.stringify(jwk.kty)}${jwk.crv === undefined ? '' : ` (curve ${JSON.stringify(jwk.crv)})`}; use EC P-256 or RSA`, kid);
  if (jwk.alg !== undefined && jwk.alg !== alg) return skip(`its alg ${JSON.stringify(jwk.alg)} does not fit its key type (${alg})`, kid);
  if (jwk.use !== undefined && jwk.use !== 'sig') return skip(`its use is ${JSON.stringify(jwk.use)}, not "sig"`, kid);
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return skip('its key_ops do not include "verify"', kid);
  if (alg === 'RS256') {
    const bits = typeof jwk.n === 'string' ? modulusBits(jwk.n) : 0;
    if (bits < MIN_RSA_BITS) return skip(`its RSA modulus has ${bits} bits; at least ${MIN_RSA_BITS} are required`, kid);
  }
  const fingerprint = JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e, alg]);
  return { kid, alg, jwk, fingerprint };
}

/** Import a candidate, reusing the key already in force when the set still has it unchanged. */
async function importCandidate<K extends VerificationKey>(c: Candidate, { previous, make, source, logger }: ImportJwkSetOptions<K>): Promise<K | undefined> {
  const current = previous.get(c.kid);
  if (current !== undefined && current.fingerprint === c.fingerprint) return current.key;
  try {
    const key = await importJWK(c.jwk, c.alg);
    if (key instanceof Uint8Array) throw new TypeError('a symmetric key');
    return make(Object.freeze({ kid: c.kid, alg: c.alg, key, jwk: Object.freeze(c.jwk) }));
  } catch (err) {
    logger.warn({ ...source.context, kid: c.kid, err }, `skipped a key in ${source.noun}: it does not import as a public key`);
    return undefined;
  }
}

/** The bit length of a base64url big-endian RSA modulus. */
function modulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] ?? 0));
}
