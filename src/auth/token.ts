import { compactVerify } from 'jose';
import { StrataError } from '../errors.js';
import { invalidToken, isObject, parseClaims, type VerifiedToken } from './claims.js';
import { isProviderKey, type KeyAlgorithm, type VerificationKey } from './jwk-set.js';
import { Lru } from './lru.js';

/** The verified token's types, re-exported so callers need only this module. */
export type { AccessClaim, CollectionAccess, KeyValueExists, PointsValueExists, ValueExistsClaim, ValueMatch, VerifiedToken } from './claims.js';

/**
 * Token verification (DESIGN §4) with the token cache in front of it.
 *
 * A token is a compact JWS whose header has `typ` JWT, `alg` ES256 or RS256 and a `kid` naming a
 * key of the key set whose algorithm is that `alg`; only then is the signature checked (by jose,
 * with that one algorithm allowed), and only a verified payload's claims are read. The key always
 * comes from the key set by kid, never from the token (`jwk`, `jku`, `x5c` are ignored), and the
 * algorithm is the key's, so neither `none` nor an HMAC signed with a public key can get through.
 *
 * With a {@link KeyRing}, the token's `iss` (read unverified) chooses between the local keys and
 * one identity provider's. A provider's key verifies a token only when, after the signature holds,
 * its `iss` is the provider's and its `aud` includes the provider's audience; its tenants come from
 * the provider's tenants claim. `exp`, `nbf` and `iat` are required of every token, a provider's
 * too (DESIGN §4): most providers set `iat`, and one that does not is refused rather than guessed.
 *
 * Verified tokens are cached by their exact text until they expire, so a repeated token costs a map
 * lookup instead of a signature check. Removing or replacing a key invalidates what it signed.
 */

/** Defaults of the token knobs (DESIGN §5): no clock skew (as FDB), 8 KiB, 2000 entries (as FDB). */
export const TOKEN_DEFAULTS = { clockSkewSeconds: 0, maxTokenBytes: 8192, cacheSize: 2000 } as const;

/** The most clock skew honoured, in seconds; larger settings are lowered to it. */
export const MAX_CLOCK_SKEW_SECONDS = 60;

/**
 * Checks a token's signature with `key` and returns its payload bytes; rejects when it does not
 * verify. The default is jose's `compactVerify`; tests inject a counting one.
 */
export type SignatureCheck = (token: string, key: VerificationKey) => Promise<Uint8Array>;

/**
 * What the verifier needs of its keys: a {@link KeySet} or a {@link KeyRing}.
 *
 * `iss` is the token's issuer read from the payload *before* the signature is checked: it only
 * chooses where to look (a key ring searches the provider with that issuer, else its local keys)
 * and is trusted for nothing else. A key set ignores it.
 */
export interface TokenKeys {
  /** Changes whenever a key that `get` may return changes; equal means every key is the same. */
  readonly generation: number;
  get(kid: string, iss?: string): VerificationKey | undefined;
  /** Optional: after a miss, fetch keys anew where that may help (rate limited by the source). */
  refresh?(kid: string, iss?: string): Promise<void>;
}

/** Options of {@link TokenVerifier}. */
export interface TokenVerifierOptions {
  /** When set (and not empty), the token's `iss` must equal it (knob token_issuer). */
  readonly issuer?: string;
  /** When set (and not empty), the token's `aud` must include it (knob token_audience). */
  readonly audience?: string;
  /** Tolerated clock difference, 0-60 s (knob token_clock_skew_seconds; default 0). */
  readonly clockSkewSeconds?: number;
  /** Longest token accepted, in bytes (knob max_token_size_bytes; default 8192). */
  readonly maxTokenBytes?: number;
  /** Cached tokens, LRU; 0 disables the cache (knob token_cache_size; default 2000). */
  readonly cacheSize?: number;
  /** The clock, epoch ms (default `Date.now`). */
  readonly now?: () => number;
  /** The signature check (default: jose's `compactVerify` with the key's algorithm only). */
  readonly checkSignature?: SignatureCheck;
}

/** Token cache counters, for status and metrics. */
export interface TokenCacheStats {
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
  /** hits / (hits + misses), 0 before any lookup. */
  readonly hitRate: number;
}

/** The default {@link SignatureCheck}: jose, with exactly the key's algorithm allowed. */
export const joseSignatureCheck: SignatureCheck = async (token, key) =>
  (await compactVerify(token, key.key, { algorithms: [key.alg] })).payload;

interface CacheEntry {
  /** The whole token: a lookup by signature is a hit only when the rest matches too. */
  readonly text: string;
  readonly token: VerifiedToken;
  /** The key that verified it: the entry holds only while the key set still has this very key. */
  readonly key: VerificationKey;
  /** The unverified iss the key was looked up with (the verified one: the same payload). */
  readonly iss: string | undefined;
  /** exp plus the skew, in ms: the instant a fresh verification would call it expired. */
  readonly expiresAtMs: number;
  /** The key-set generation at which `key` was last seen in force. */
  generation: number;
}

const ALGORITHMS: ReadonlySet<unknown> = new Set<KeyAlgorithm>(['ES256', 'RS256']);
// Unpadded base64url, as compact JWS segments are (RFC 7515 §2).
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Verifies bearer tokens against a key set, with an LRU cache of verified tokens.
 *
 * @example
 * const verifier = new TokenVerifier(keySet, { audience: 'strata' });
 * const token = await verifier.verify(bearer); // rejects with ERR_AUTH_TOKEN_* codes
 */
export class TokenVerifier {
  readonly #keys: TokenKeys;
  readonly #issuer: string | undefined;
  readonly #audience: string | undefined;
  readonly #skewMs: number;
  readonly #maxTokenBytes: number;
  readonly #now: () => number;
  readonly #check: SignatureCheck;
  readonly #cache: Lru<string, CacheEntry> | undefined;
  #hits = 0;
  #misses = 0;

  constructor(keys: TokenKeys, options: TokenVerifierOptions = {}) {
    const skew = options.clockSkewSeconds ?? TOKEN_DEFAULTS.clockSkewSeconds;
    if (!Number.isFinite(skew) || skew < 0) throw new RangeError(`clockSkewSeconds must be a number from 0 to ${MAX_CLOCK_SKEW_SECONDS}, got ${skew}`);
    const maxTokenBytes = options.maxTokenBytes ?? TOKEN_DEFAULTS.maxTokenBytes;
    if (!Number.isSafeInteger(maxTokenBytes) || maxTokenBytes < 1) throw new RangeError(`maxTokenBytes must be a positive whole number, got ${maxTokenBytes}`);
    const cacheSize = options.cacheSize ?? TOKEN_DEFAULTS.cacheSize;
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) throw new RangeError(`cacheSize must be a whole number, 0 to disable, got ${cacheSize}`);
    this.#keys = keys;
    // An empty knob means unset: the server's knobs default to '' and no token could match ''.
    this.#issuer = options.issuer === '' ? undefined : options.issuer;
    this.#audience = options.audience === '' ? undefined : options.audience;
    // Capped (DESIGN §4): a wider window would keep expired tokens alive for minutes.
    this.#skewMs = Math.min(skew, MAX_CLOCK_SKEW_SECONDS) * 1000;
    this.#maxTokenBytes = maxTokenBytes;
    this.#now = options.now ?? Date.now;
    this.#check = options.checkSignature ?? joseSignatureCheck;
    this.#cache = cacheSize === 0 ? undefined : new Lru(cacheSize);
  }

  /**
   * Verify `token` (the compact JWS, without `Bearer `). Rejects with `ERR_AUTH_TOKEN_MISSING`
   * (empty), `ERR_AUTH_TOKEN_TOO_LARGE`, `ERR_AUTH_TOKEN_EXPIRED` or `ERR_AUTH_TOKEN_INVALID`
   * (anything else wrong); no error carries the token.
   */
  async verify(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token === '') throw new StrataError('ERR_AUTH_TOKEN_MISSING', 'no token was presented');
    // A UTF-8 encoding is never shorter than the UTF-16 length, and at most three times longer.
    if (token.length > this.#maxTokenBytes || (token.length * 3 > this.#maxTokenBytes && Buffer.byteLength(token) > this.#maxTokenBytes)) {
      throw new StrataError('ERR_AUTH_TOKEN_TOO_LARGE', `the token is longer than ${this.#maxTokenBytes} bytes`, {
        details: { maxTokenBytes: this.#maxTokenBytes },
      });
    }
    const cache = this.#cache;
    // Cached by the signature segment, not the whole token: a map lookup hashes its key, and the
    // signature is a fraction of the token. It only finds the entry; equality of the whole text
    // decides the hit, so a token altered anywhere (signature reused) is verified afresh.
    const cacheKey = token.slice(token.lastIndexOf('.') + 1);
    if (cache !== undefined) {
      const hit = cache.get(cacheKey);
      if (hit !== undefined && hit.text === token) {
        if (this.#now() < hit.expiresAtMs && (hit.generation === this.#keys.generation || this.#keyStillInForce(hit))) {
          this.#hits++;
          return hit.token;
        }
        // Expired, or its key was removed or replaced: verify afresh, which reports why.
        cache.delete(cacheKey);
      }
    }
    this.#misses++;
    const { verified, key, iss, generation } = await this.#verifyFully(token);
    cache?.set(cacheKey, { text: token, token: verified, key, iss, expiresAtMs: verified.exp * 1000 + this.#skewMs, generation });
    return verified;
  }

  /** Cache counters. */
  stats(): TokenCacheStats {
    const lookups = this.#hits + this.#misses;
    return { size: this.#cache?.size ?? 0, hits: this.#hits, misses: this.#misses, hitRate: lookups === 0 ? 0 : this.#hits / lookups };
  }

  #keyStillInForce(hit: CacheEntry): boolean {
    if (this.#keys.get(hit.token.kid, hit.iss) !== hit.key) return false;
    hit.generation = this.#keys.generation;
    return true;
  }

  /** The full check; `generation` is the key set's when the key was looked up. */
  async #verifyFully(token: string): Promise<{ verified: VerifiedToken; key: VerificationKey; iss: string | undefined; generation: number }> {
    const segments = token.split('.');
    if (segments.length !== 3 || !segments.every(s => BASE64URL.test(s))) {
      throw invalidToken('a token must be a compact JWS: three non-empty base64url segments joined by dots');
    }
    const header = parseJsonSegment(Buffer.from(segments[0] ?? '', 'base64url'), 'header');
    if (header['typ'] !== 'JWT') throw invalidToken('the token header’s typ must be "JWT"');
    const alg = header['alg'];
    if (!ALGORITHMS.has(alg)) throw invalidToken('the token header’s alg must be ES256 or RS256');
    // No critical extension is understood; b64 (RFC 7797) would change what the signature covers.
    if (header['crit'] !== undefined || header['b64'] !== undefined) throw invalidToken('the token header must not have crit or b64');
    const kid = header['kid'];
    if (typeof kid !== 'string' || kid === '') throw invalidToken('the token header must name its key in kid');
    // Unverified: it only chooses where the key is looked up (see TokenKeys); the signature check
    // and the key's own issuer check below decide whether it is believed.
    const iss = unverifiedIssuer(segments[1] ?? '');
    // Read together, with no await between: a reload during the signature check must not stamp
    // the entry with a generation in which its key may no longer be in force.
    let generation = this.#keys.generation;
    let key = this.#keys.get(kid, iss);
    if (key === undefined && this.#keys.refresh !== undefined) {
      // An identity provider may have rotated a key in: it refetches (rate limited), then look again.
      await this.#keys.refresh(kid, iss);
      generation = this.#keys.generation;
      key = this.#keys.get(kid, iss);
    }
    if (key === undefined) throw invalidToken(`no key in the key set has kid ${JSON.stringify(kid.slice(0, 64))}`);
    if (key.alg !== alg) throw invalidToken(`the token’s alg ${String(alg)} is not its key’s (${key.alg})`);
    let payload: Uint8Array;
    try {
      payload = await this.#check(token, key);
    } catch {
      // jose's reasons (bad signature, malformed segment) all mean the same to the caller.
      throw invalidToken('the token’s signature does not verify');
    }
    const provider = isProviderKey(key) ? key : undefined;
    const verified = parseClaims(parseJsonSegment(payload, 'payload'), kid, provider === undefined ? {} : { tenantsClaim: provider.tenantsClaim });
    const now = this.#now();
    if (now >= verified.exp * 1000 + this.#skewMs) throw new StrataError('ERR_AUTH_TOKEN_EXPIRED', 'the token has expired');
    if (verified.nbf * 1000 > now + this.#skewMs) throw invalidToken('the token is not valid yet (nbf is in the future)');
    if (provider !== undefined) {
      // An identity provider's key verifies only its own tokens for this server; the issuer and
      // audience knobs are for the local keys' tokens.
      if (verified.iss !== provider.issuer) throw invalidToken('the token’s iss is not the issuer of the identity provider whose key signed it');
      if (verified.aud?.includes(provider.audience) !== true) throw invalidToken('the token’s aud does not include the audience configured for its identity provider');
    } else {
      if (this.#issuer !== undefined && verified.iss !== this.#issuer) throw invalidToken('the token’s iss is not the configured issuer');
      if (this.#audience !== undefined && verified.aud?.includes(this.#audience) !== true) {
        throw invalidToken('the token’s aud does not include the configured audience');
      }
    }
    return { verified, key, iss, generation };
  }
}

/** The payload's `iss` when it is a string, read without verifying anything; never throws. */
function unverifiedIssuer(segment: string): string | undefined {
  try {
    const payload: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    const iss = isObject(payload) ? payload['iss'] : undefined;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    // The verified payload is parsed again after the signature check, which reports what is wrong.
    return undefined;
  }
}

function parseJsonSegment(bytes: Uint8Array, what: 'header' | 'payload'): Readonly<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalidToken(`the token ${what} is not JSON`);
  }
  if (!isObject(value)) throw invalidToken(`the token ${what} must be a JSON object`);
  return value;
}
