import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Database, Transaction } from '../kv/types.js';
import { SYSTEM } from '../tenancy/layout.js';
import type { VerificationKey } from './keyset.js';

/**
 * The server's issuing keys: the ES256 keys that sign the access tokens Strata hands out in
 * exchange for an API key or a refresh token. They live in Strata's system subspace (trusted
 * callers only), so every server sharing the store signs with the same key and verifies what the
 * others signed; their public halves join the key ring and are served at
 * `GET /.well-known/jwks.json`.
 *
 * Rotation (`strata keys rotate`) adds a key and marks the others to retire once every token they
 * signed has expired. A new key is only signed with after {@link PUBLISH_DELAY_MS}, by which time
 * every server has reloaded it, so no server ever meets a token signed by a key it does not know.
 */

/** `\xfe ('auth', 'issuing', kid)` → JSON {@link StoredIssuingKey}. Pinned by test/auth/issuing-keys.test.ts. */
export const ISSUING_KEYS = SYSTEM.subspace(['auth', 'issuing']);

/** The longest an exchanged access token lives (the knob access_token_ttl_seconds is capped to it). */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 3600;
/** How often a server re-reads the issuing keys. */
export const ISSUING_RELOAD_MS = 10_000;
/** A new key is signed with only this long after its creation: every server has loaded it by then. */
export const PUBLISH_DELAY_MS = 3 * ISSUING_RELOAD_MS;
/** Retired keys stay this long past the last token they may have signed (clock skew included). */
const RETIRE_MARGIN_MS = 120_000;

interface StoredIssuingKey {
  readonly kid: string;
  readonly private_jwk: JWK;
  readonly public_jwk: JWK;
  readonly created_at: number;
  /** When the key leaves the key set (epoch ms); null while it is current. */
  readonly retire_at: number | null;
}

/** A key that signs: its kid and private key. */
export interface SigningKey {
  readonly kid: string;
  readonly key: CryptoKey;
}

async function newKey(nowMs: number): Promise<StoredIssuingKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `strata-${new Date(nowMs).toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const public_jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const private_jwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
  return { kid, public_jwk, private_jwk, created_at: nowMs, retire_at: null };
}

async function readAll(tx: Transaction): Promise<StoredIssuingKey[]> {
  const { begin, end } = ISSUING_KEYS.range();
  const { kvs } = await tx.getRange(begin, end, { limit: 1000 });
  return kvs.map(kv => JSON.parse(Buffer.from(kv.value).toString('utf8')) as StoredIssuingKey);
}

/** The key pair generated outside the transaction (key generation is slow and must not be retried). */
function store(tx: Transaction, key: StoredIssuingKey): void {
  tx.set(ISSUING_KEYS.pack([key.kid]), Buffer.from(JSON.stringify(key), 'utf8'));
}

/** Make sure the store has a current issuing key (the first server to start makes it). */
export async function ensureIssuingKey(db: Database, nowMs: number): Promise<void> {
  const existing = await db.transact(tx => readAll(tx));
  if (existing.some(k => k.retire_at === null)) return;
  const key = await newKey(nowMs);
  await db.transact(async tx => {
    // Another server may have made one meanwhile: this read conflicts with its write, and the retry sees it.
    if ((await readAll(tx)).some(k => k.retire_at === null)) return;
    store(tx, key);
  });
}

/**
 * Add a new issuing key and retire the current ones once the tokens they signed have expired.
 * Returns the new kid and the kids being retired with when they go.
 */
export async function rotateIssuingKey(db: Database, nowMs: number): Promise<{ kid: string; retiring: Array<{ kid: string; retire_at: string }> }> {
  const key = await newKey(nowMs);
  const retireAt = nowMs + PUBLISH_DELAY_MS + MAX_ACCESS_TOKEN_TTL_SECONDS * 1000 + RETIRE_MARGIN_MS;
  return db.transact(async tx => {
    const retiring: Array<{ kid: string; retire_at: string }> = [];
    for (const old of await readAll(tx)) {
      if (old.retire_at !== null) continue;
      store(tx, { ...old, retire_at: retireAt });
      retiring.push({ kid: old.kid, retire_at: new Date(retireAt).toISOString() });
    }
    store(tx, key);
    return { kid: key.kid, retiring };
  });
}

/** The keys in force at `nowMs`, removing (in the same transaction) those whose retirement has passed. */
async function readLive(tx: Transaction, nowMs: number): Promise<StoredIssuingKey[]> {
  const live: StoredIssuingKey[] = [];
  for (const k of await readAll(tx)) {
    if (k.retire_at !== null && k.retire_at <= nowMs) tx.clear(ISSUING_KEYS.pack([k.kid]));
    else live.push(k);
  }
  return live;
}

interface Loaded {
  readonly stored: StoredIssuingKey;
  readonly verification: VerificationKey;
  readonly signing: SigningKey;
}

/** Import a stored key's public half (to verify) and private half (to sign). */
async function load(s: StoredIssuingKey): Promise<Loaded> {
  const publicKey = (await importJWK(s.public_jwk, 'ES256')) as CryptoKey;
  const privateKey = (await importJWK(s.private_jwk, 'ES256')) as CryptoKey;
  const verification: VerificationKey = Object.freeze({ kid: s.kid, alg: 'ES256', key: publicKey, jwk: Object.freeze({ ...s.public_jwk }) });
  return { stored: s, verification, signing: { kid: s.kid, key: privateKey } };
}

/**
 * The issuing keys as this server holds them, re-read every {@link ISSUING_RELOAD_MS}. A key
 * source for the key ring (`generation`, `get`), and the signer of exchanged tokens.
 */
export class IssuingKeys {
  readonly #db: Database;
  readonly #now: () => number;
  #keys: ReadonlyMap<string, Loaded> = new Map();
  #generation = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(db: Database, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** Load the keys (making the first one if the store has none). */
  static async open(db: Database, options: { now?: () => number } = {}): Promise<IssuingKeys> {
    const keys = new IssuingKeys(db, options.now ?? Date.now);
    await ensureIssuingKey(db, keys.#now());
    await keys.reload();
    return keys;
  }

  /** Bumped whenever the keys change. */
  get generation(): number {
    return this.#generation;
  }

  /** The public key with this kid, or undefined. */
  get(kid: string): VerificationKey | undefined {
    return this.#keys.get(kid)?.verification;
  }

  /** The public JWKs, as `GET /.well-known/jwks.json` serves them. */
  publicJwks(): { keys: JWK[] } {
    return { keys: [...this.#keys.values()].map(k => k.stored.public_jwk) };
  }

  /**
   * The key to sign with: the newest key that every server has had time to load, or, when there is
   * none yet (the very first key), the newest key.
   */
  signer(): SigningKey {
    const now = this.#now();
    // Newest first. A retiring key still signs until its successor is published: it retires only
    // after the longest token it can sign then has expired.
    const newest = [...this.#keys.values()].sort((a, b) => b.stored.created_at - a.stored.created_at);
    const chosen = newest.find(k => k.stored.created_at + PUBLISH_DELAY_MS <= now) ?? newest[0];
    if (chosen === undefined) throw new Error('no issuing key is loaded');
    return chosen.signing;
  }

  /** Re-read the keys from the store (and drop retired ones). */
  async reload(): Promise<void> {
    const now = this.#now();
    const stored = await this.#db.transact(tx => readLive(tx, now));
    const next = new Map<string, Loaded>();
    for (const s of stored) {
      // A key's material never changes under its kid; only its retirement time may.
      const held = this.#keys.get(s.kid);
      next.set(s.kid, held === undefined ? await load(s) : { ...held, stored: s });
    }
    const changed = next.size !== this.#keys.size || [...next.keys()].some(kid => !this.#keys.has(kid));
    this.#keys = next;
    if (changed) this.#generation++;
  }

  /** Reload on an interval (unref'd) until {@link stop}; failures go to `onError`. */
  start(onError: (err: unknown) => void): void {
    this.#timer = setInterval(() => void this.reload().catch(onError), ISSUING_RELOAD_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}
