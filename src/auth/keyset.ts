import { readFile } from 'node:fs/promises';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { StrataError } from '../errors.js';

/**
 * The public keys that tokens may be signed with: a JWK Set file (`--authorization-public-key-file`,
 * DESIGN §4). EC P-256 keys verify ES256 and RSA keys (2048 bits or more) RS256; each needs a `kid`,
 * which is how a token names its key. The file is re-read on demand (the server calls
 * {@link KeySet.reload} on its interval and on SIGHUP); a file that is not a valid JWK Set leaves
 * the previous keys in force, so a half-written or mistyped file never locks everyone out.
 */

/** The token algorithms Strata accepts, one per key type. */
export const KEY_ALGORITHMS = ['ES256', 'RS256'] as const;

/** `ES256` (EC P-256) or `RS256` (RSA). */
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Smallest RSA modulus accepted, in bits (NIST SP 800-131A). */
export const MIN_RSA_BITS = 2048;

/** Where the key set reports skipped keys and invalid files; a pino logger fits. */
export interface KeySetLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options of {@link KeySet.load}. */
export interface KeySetOptions {
  readonly logger: KeySetLogger;
  /** The clock for {@link KeySet.lastReload}, epoch ms (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * One usable key. The object stays the same across reloads for as long as the file holds the same
 * key under the same kid, so a cache may compare it by identity to learn whether its key survived.
 */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly key: CryptoKey;
  /** The public JWK as the file gives it, private members removed. */
  readonly jwk: Readonly<JWK>;
}

// JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

interface Candidate {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly jwk: JWK;
  /** The members that identify the key: equal fingerprints, same key. */
  readonly fingerprint: string;
}

/** A key in force with the fingerprint it was imported from. */
interface Held {
  readonly key: VerificationKey;
  readonly fingerprint: string;
}

/**
 * A JWK Set loaded from a file, looked up by `kid`.
 *
 * @example
 * const keys = await KeySet.load('jwks.json', { logger });
 * setInterval(() => keys.reload().catch(() => {}), 300_000); // failures are already logged
 */
export class KeySet {
  /** The file the keys come from. */
  readonly path: string;
  readonly #logger: KeySetLogger;
  readonly #now: () => number;
  // Each key with the fingerprint it was imported from, to reuse it while the file keeps it unchanged.
  #keys: ReadonlyMap<string, Held> = new Map();
  #generation = 0;
  #lastReload = 0;
  #lastError: StrataError | undefined;
  // Reloads run one at a time (a SIGHUP may land during the interval's reload).
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, options: KeySetOptions) {
    this.path = path;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Read the key set from `path`. Rejects with `ERR_AUTH_KEYSET_INVALID` when the file is not a
   * valid JWK Set: at start-up there is no previous set to fall back on.
   */
  static async load(path: string, options: KeySetOptions): Promise<KeySet> {
    const keySet = new KeySet(path, options);
    await keySet.reload();
    return keySet;
  }

  /**
   * Bumped whenever a reload adds, removes or replaces a key. Equal generations mean every key
   * looked up before is still the same key.
   */
  get generation(): number {
    return this.#generation;
  }

  /** When the file was last read successfully, epoch ms. */
  get lastReload(): number {
    return this.#lastReload;
  }

  /** Why the last reload failed, or undefined when it succeeded (for status). */
  get lastError(): StrataError | undefined {
    return this.#lastError;
  }

  /** How many keys are in force. */
  get size(): number {
    return this.#keys.size;
  }

  /** The key with this kid, or undefined. */
  get(kid: string): VerificationKey | undefined {
    return this.#keys.get(kid)?.key;
  }

  /** The kids in force, in file order. */
  kids(): string[] {
    return [...this.#keys.keys()];
  }

  /**
   * Re-read the file; resolves true when the keys changed. A file that is unreadable, not JSON,
   * has no `keys` list, repeats a kid, or lists keys none of which is usable is invalid: the
   * previous keys stay in force, the error is logged and the promise rejects with
   * `ERR_AUTH_KEYSET_INVALID`. An empty `keys` list is valid and accepts no token: it is how an
   * operator withdraws every key on purpose.
   */
  reload(): Promise<boolean> {
    const run = this.#queue.then(() => this.#reload());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(): Promise<boolean> {
    let next: Map<string, Held>;
    try {
      next = await this.#read();
    } catch (err) {
      const error =
        err instanceof StrataError
          ? err
          : new StrataError('ERR_AUTH_KEYSET_INVALID', `cannot read the JWK Set file ${this.path}`, { cause: err });
      this.#lastError = error;
      this.#logger.error({ path: this.path, code: error.code, err: error.cause ?? error }, `${error.message}; the previous key set stays in force`);
      throw error;
    }
    this.#lastError = undefined;
    this.#lastReload = this.#now();
    const changed = next.size !== this.#keys.size || [...next].some(([kid, e]) => this.#keys.get(kid)?.key !== e.key);
    if (changed) {
      this.#keys = next;
      this.#generation++;
    }
    return changed;
  }

  async #read(): Promise<Map<string, Held>> {
    const text = await readFile(this.path, 'utf8');
    let doc: unknown;
    try {
      // Editors on some systems start the file with a byte-order mark, which JSON.parse refuses.
      doc = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch {
      // Not the parser's error as the cause: its message quotes the file, which may hold private keys.
      throw this.#invalid('is not JSON');
    }
    const keys = typeof doc === 'object' && doc !== null ? (doc as { keys?: unknown }).keys : undefined;
    if (!Array.isArray(keys)) throw this.#invalid('has no "keys" list');
    const candidates = keys.flatMap((entry: unknown, index) => {
      const c = this.#candidate(entry, index);
      return c === undefined ? [] : [c];
    });
    const next = new Map<string, Held>();
    const imported = await Promise.all(candidates.map(c => this.#import(c)));
    candidates.forEach((c, i) => {
      const key = imported[i];
      if (key === undefined) return;
      // Two keys under one kid leave a token's key ambiguous: refuse the file rather than guess.
      if (next.has(c.kid)) throw this.#invalid(`lists kid ${JSON.stringify(c.kid)} twice`);
      next.set(c.kid, { key, fingerprint: c.fingerprint });
    });
    if (keys.length > 0 && next.size === 0) throw this.#invalid('holds no usable key (see the warnings above)');
    return next;
  }

  /** Check one JWK; undefined (with a warning) when it cannot be used. */
  #candidate(entry: unknown, index: number): Candidate | undefined {
    const skip = (why: string, kid?: string): undefined => {
      this.#logger.warn({ path: this.path, index, ...(kid === undefined ? {} : { kid }) }, `skipped a key in the JWK Set file: ${why}`);
      return undefined;
    };
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return skip('not a JSON object');
    const jwk = { ...(entry as JWK) };
    const kid = jwk.kid;
    if (typeof kid !== 'string' || kid === '') return skip('it has no kid');
    const found = PRIVATE_MEMBERS.filter(m => Object.hasOwn(jwk, m));
    if (found.length > 0) {
      for (const m of found) delete jwk[m];
      this.#logger.warn(
        { path: this.path, kid, members: found },
        'the JWK Set file holds private key material; it was dropped and only the public key is used (keep private keys out of this file)',
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

  /** Import a candidate, reusing the key already in force when the file still has it unchanged. */
  async #import(c: Candidate): Promise<VerificationKey | undefined> {
    const current = this.#keys.get(c.kid);
    if (current !== undefined && current.fingerprint === c.fingerprint) return current.key;
    try {
      const key = await importJWK(c.jwk, c.alg);
      if (key instanceof Uint8Array) throw new TypeError('a symmetric key');
      return Object.freeze({ kid: c.kid, alg: c.alg, key, jwk: Object.freeze(c.jwk) });
    } catch (err) {
      this.#logger.warn({ path: this.path, kid: c.kid, err }, 'skipped a key in the JWK Set file: it does not import as a public key');
      return undefined;
    }
  }

  #invalid(why: string, cause?: unknown): StrataError<'ERR_AUTH_KEYSET_INVALID'> {
    return new StrataError('ERR_AUTH_KEYSET_INVALID', `the JWK Set file ${this.path} ${why}`, cause === undefined ? {} : { cause });
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
