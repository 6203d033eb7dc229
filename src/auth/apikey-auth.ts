import { StrataError } from '../errors.js';
import type { Database, Transaction } from '../kv/types.js';
import { apiKeyBytes, apiKeyRefused, authenticateApiKey, decodeApiKeyRecord, secretValidUntil, touchApiKey, type ApiKeyRecord } from './apikeys.js';
import type { VerifiedToken } from './claims.js';
import { Lru } from './lru.js';

/**
 * API keys presented directly (Qdrant's `api-key` header, or `Authorization: Bearer`), so that
 * `new QdrantClient({ url, apiKey })` works with nothing minted. The first use of a key looks it up
 * and checks its secret; later uses hit a cache keyed by the key's text, as the token cache does.
 * Revocation is still seen on the very next request: the policy re-reads the key's record inside
 * the request's transaction and compares it with the bytes the cache saw ({@link checkApiKeyBinding}).
 */

/** What a directly presented key binds the request to. */
export interface ApiKeyBinding {
  readonly id: string;
  /** The record's stored bytes when the key was checked: unchanged bytes mean an unchanged key. */
  readonly bytes: Uint8Array;
  /** SHA-256 of the presented secret, to check it again if the record changed (a rotation). */
  readonly secretHash: Buffer;
}

/** A key's facts in the shape of a verified token, plus its binding. */
export type ApiKeyFacts = VerifiedToken & { readonly apiKey: ApiKeyBinding };

interface Entry {
  readonly facts: ApiKeyFacts;
  /** Until when the presented secret works (key expiry, or the end of a rotation's grace), epoch ms. */
  readonly validUntilMs: number;
}

function factsOf(record: ApiKeyRecord, bytes: Uint8Array, secretHash: Buffer, untilMs: number): ApiKeyFacts {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  return Object.freeze({
    tenants: Object.freeze([...record.tenants]),
    exp: untilMs >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : seconds(untilMs),
    nbf: seconds(record.created_at),
    iat: seconds(record.created_at),
    kid: '',
    sub: `apikey:${record.id}`,
    ...(record.access === undefined ? {} : { access: record.access }),
    apiKey: Object.freeze({ id: record.id, bytes, secretHash }),
  });
}

/**
 * Checks presented API keys, with a cache in front.
 *
 * @example
 * const keys = new ApiKeyAuthenticator(db);
 * const facts = await keys.authenticate(apiKeyHeader); // ERR_AUTH_APIKEY_INVALID when wrong
 */
export class ApiKeyAuthenticator {
  readonly #db: Database;
  readonly #now: () => number;
  readonly #cache: Lru<string, Entry>;
  readonly #touched = new Map<string, number>();
  readonly #touchEveryMs: number;
  readonly #onError: (err: unknown) => void;
  #hits = 0;
  #misses = 0;

  constructor(db: Database, options: { cacheSize?: number; now?: () => number; touchEveryMs?: number; onError?: (err: unknown) => void } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#cache = new Lru(Math.max(1, options.cacheSize ?? 2000));
    this.#touchEveryMs = options.touchEveryMs ?? 60_000;
    this.#onError = options.onError ?? (() => {});
  }

  /** The facts of a presented key; rejects with `ERR_AUTH_APIKEY_INVALID`. The key never appears in an error. */
  async authenticate(text: string): Promise<ApiKeyFacts> {
    const now = this.#now();
    const hit = this.#cache.get(text);
    if (hit !== undefined && now < hit.validUntilMs) {
      this.#hits++;
      this.#touch(hit.facts.apiKey.id, now);
      return hit.facts;
    }
    if (hit !== undefined) this.#cache.delete(text);
    this.#misses++;
    const { record, bytes, secretHash } = await this.#db.transact(tx => authenticateApiKey(tx, text, now));
    const until = secretValidUntil(record, secretHash, now);
    if (until === undefined) throw apiKeyRefused();
    const facts = factsOf(record, bytes, secretHash, until);
    this.#cache.set(text, { facts, validUntilMs: until });
    this.#touch(record.id, now);
    return facts;
  }

  /** Cache counters. */
  stats(): { size: number; hits: number; misses: number } {
    return { size: this.#cache.size, hits: this.#hits, misses: this.#misses };
  }

  /** Record the key's last use, at most once per interval per key on this server, off the request's path. */
  #touch(id: string, now: number): void {
    const last = this.#touched.get(id);
    if (last !== undefined && now - last < this.#touchEveryMs) return;
    this.#touched.set(id, now);
    if (this.#touched.size > 100_000) this.#touched.clear();
    void this.#db.transact(async tx => touchApiKey(tx, id, now)).catch(this.#onError);
  }
}

/**
 * Inside a request's transaction: the key bound to the request still opens, as checked at
 * `nowMs`. Unchanged stored bytes mean it does (one read, one compare); changed bytes (a rotation)
 * are checked again; missing bytes (revoked) refuse with `ERR_AUTH_APIKEY_INVALID`.
 */
export async function checkApiKeyBinding(tx: Transaction, binding: ApiKeyBinding, nowMs: number): Promise<void> {
  const bytes = await apiKeyBytes(tx, binding.id);
  if (bytes === undefined) throw apiKeyRefused();
  if (Buffer.compare(bytes, binding.bytes) === 0) return;
  const record = decodeApiKeyRecord(bytes);
  if (secretValidUntil(record, binding.secretHash, nowMs) === undefined) throw apiKeyRefused();
}

/** Inside a request's transaction: the API key a token was exchanged from still exists (not revoked). */
export async function checkExchangedFrom(tx: Transaction, keyId: string): Promise<void> {
  if ((await apiKeyBytes(tx, keyId)) === undefined) {
    throw new StrataError('ERR_AUTH_TOKEN_REVOKED', 'the API key this token was exchanged from has been revoked');
  }
}
