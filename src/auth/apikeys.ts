import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { StrataError } from '../errors.js';
import type { Transaction } from '../kv/types.js';
import { SYSTEM } from '../tenancy/layout.js';
import { tenantNameBytes } from '../tenancy/name.js';
import { requireTenant } from '../tenancy/registry.js';
import { parseAccess, type AccessClaim } from './claims.js';

/**
 * API keys (issue 8): long-lived credentials an operator issues to a service, scoped to tenants and
 * a Qdrant-style `access`, exchanged for short-lived tokens or presented directly as Qdrant's
 * `api-key`. A key is `strata_<id>_<secret>`; the store keeps only the SHA-256 of the secret (the
 * secret is 256 random bits, so a fast hash is enough: nothing can be guessed from it, unlike a
 * password), in Strata's system subspace, so every server sharing the store sees a new, rotated or
 * revoked key on its next lookup. Layout pinned by test/auth/apikeys.test.ts.
 */

/** One record per key: `\xfe ('auth', 'apikey', id)` → JSON {@link ApiKeyRecord}. */
export const API_KEYS = SYSTEM.subspace(['auth', 'apikey']);
/** When each key was last used (epoch ms, 8 bytes), apart from the record so a use never rewrites it. */
export const API_KEY_LAST_USED = SYSTEM.subspace(['auth', 'apikey_used']);

/** What every key starts with, so a key is told from a JWT (and found by secret scanners). */
export const API_KEY_PREFIX = 'strata_';
/** How long the old secret keeps working after a rotation unless told otherwise: one day. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;
/** Keys listed at most per call. */
const MAX_LIST = 10_000;

/** A key as stored (never the secret). */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  /** Tenant names the key reaches. */
  readonly tenants: readonly string[];
  /** Qdrant-style access (absent: full rights in the tenants). */
  readonly access?: AccessClaim;
  /** Hex SHA-256 of the current secret. */
  readonly hash: string;
  /** The previous secret's hash and until when (epoch ms) it still works, after a rotation. */
  readonly previous?: { readonly hash: string; readonly until: number };
  readonly created_at: number;
  /** Epoch ms, or null for a key that does not expire. */
  readonly expires_at: number | null;
}

/** What operators see of a key: everything but the hashes. */
export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly tenants: readonly string[];
  readonly access?: AccessClaim;
  readonly created_at: string;
  readonly expires_at: string | null;
  readonly last_used_at: string | null;
  /** Until when the secret before the last rotation still works, if it does. */
  readonly previous_secret_until?: string;
}

/** What a create asks for. */
export interface NewApiKey {
  readonly name: string;
  readonly tenants: readonly string[];
  readonly access?: unknown;
  /** Seconds until the key expires; absent: never. */
  readonly ttlSeconds?: number;
}

const ID_BYTES = 8;
const SECRET_BYTES = 32;
const ID_PATTERN = /^[0-9a-f]{16}$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const sha256 = (secret: string) => hashSecret(secret).toString('hex');

/** The key's text: shown once, at creation or rotation. */
function keyText(id: string, secret: string): string {
  return `${API_KEY_PREFIX}${id}_${secret}`;
}

/** True when `text` has the shape of an API key (it may still be unknown or wrong). */
export function looksLikeApiKey(text: string): boolean {
  return text.startsWith(API_KEY_PREFIX);
}

/**
 * Split a presented key into its id and secret, or undefined when it is not shaped like one. The
 * secret is base64url, which may itself hold `_`, so the id ends at the first `_` after the prefix.
 */
export function parseApiKey(text: string): { id: string; secret: string } | undefined {
  if (!looksLikeApiKey(text)) return undefined;
  const rest = text.slice(API_KEY_PREFIX.length);
  const cut = rest.indexOf('_');
  if (cut === -1) return undefined;
  const id = rest.slice(0, cut);
  const secret = rest.slice(cut + 1);
  return ID_PATTERN.test(id) && SECRET_PATTERN.test(secret) ? { id, secret } : undefined;
}

function badRequest(message: string): StrataError {
  return new StrataError('ERR_REQUEST_INVALID', message);
}

/** Check a create's fields (bad input: ERR_REQUEST_INVALID, nothing stored). */
function checkNewKey(spec: NewApiKey): { name: string; tenants: string[]; access: AccessClaim | undefined } {
  if (typeof spec.name !== 'string' || spec.name.length === 0 || spec.name.length > 200) throw badRequest('name must be 1-200 characters');
  if (!Array.isArray(spec.tenants) || spec.tenants.length === 0) throw badRequest('tenants must list at least one tenant name');
  const tenants = [...new Set(spec.tenants)];
  for (const t of tenants) tenantNameBytes(t);
  let access: AccessClaim | undefined;
  try {
    access = parseAccess(spec.access);
  } catch (err) {
    throw badRequest(`access: ${(err as Error).message}`);
  }
  if (spec.ttlSeconds !== undefined && (!Number.isSafeInteger(spec.ttlSeconds) || spec.ttlSeconds < 1)) throw badRequest('ttl_seconds must be a positive whole number');
  return { name: spec.name, tenants, access };
}

/** A key's record from its stored bytes. */
export function decodeApiKeyRecord(bytes: Uint8Array): ApiKeyRecord {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as ApiKeyRecord;
}

function encodeRecord(record: ApiKeyRecord): Buffer {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

/**
 * Create a key for existing tenants (`ERR_TENANT_NOT_FOUND` otherwise: a key for a missing tenant
 * is a typo more often than a plan); returns its record and its text, the only time the secret
 * exists outside the caller.
 */
export async function createApiKey(tx: Transaction, spec: NewApiKey, nowMs: number): Promise<{ record: ApiKeyRecord; key: string }> {
  const { name, tenants, access } = checkNewKey(spec);
  for (const t of tenants) await requireTenant(tx, t);
  const id = randomBytes(ID_BYTES).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const record: ApiKeyRecord = {
    id,
    name,
    tenants,
    ...(access === undefined ? {} : { access }),
    hash: sha256(secret),
    created_at: nowMs,
    expires_at: spec.ttlSeconds === undefined ? null : nowMs + spec.ttlSeconds * 1000,
  };
  tx.set(API_KEYS.pack([id]), encodeRecord(record));
  return { record, key: keyText(id, secret) };
}

/** The stored bytes of key `id`, or undefined. */
export async function apiKeyBytes(tx: Transaction, id: string, options: { snapshot?: boolean } = {}): Promise<Uint8Array | undefined> {
  return tx.get(API_KEYS.pack([id]), options);
}

/** Key `id`'s record, or `ERR_APIKEY_NOT_FOUND`. */
export async function requireApiKey(tx: Transaction, id: string): Promise<ApiKeyRecord> {
  const bytes = ID_PATTERN.test(id) ? await apiKeyBytes(tx, id) : undefined;
  if (bytes === undefined) throw new StrataError('ERR_APIKEY_NOT_FOUND', `no API key has id ${JSON.stringify(id.slice(0, 64))}`, { details: { id: id.slice(0, 64) } });
  return decodeApiKeyRecord(bytes);
}

/**
 * Rotate key `id`: a new secret, while the old one keeps working for `graceSeconds` (0: not at
 * all) so that services can be moved over without an outage. Returns the new key text.
 */
export async function rotateApiKey(tx: Transaction, id: string, nowMs: number, graceSeconds = DEFAULT_ROTATION_GRACE_SECONDS): Promise<{ record: ApiKeyRecord; key: string }> {
  if (!Number.isSafeInteger(graceSeconds) || graceSeconds < 0) throw badRequest('grace_seconds must be a whole number of seconds');
  const old = await requireApiKey(tx, id);
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const { previous: _dropped, ...rest } = old;
  const record: ApiKeyRecord = { ...rest, hash: sha256(secret), ...(graceSeconds === 0 ? {} : { previous: { hash: old.hash, until: nowMs + graceSeconds * 1000 } }) };
  tx.set(API_KEYS.pack([id]), encodeRecord(record));
  return { record, key: keyText(id, secret) };
}

/** Revoke (delete) key `id`: it, and every token exchanged from it, stops working at once. */
export async function revokeApiKey(tx: Transaction, id: string): Promise<ApiKeyRecord> {
  const record = await requireApiKey(tx, id);
  tx.clear(API_KEYS.pack([id]));
  tx.clear(API_KEY_LAST_USED.pack([id]));
  return record;
}

/** Every key, in id order (at most 10,000). */
export async function listApiKeys(tx: Transaction): Promise<ApiKeyView[]> {
  const { begin, end } = API_KEYS.range();
  const { kvs } = await tx.getRange(begin, end, { limit: MAX_LIST });
  const records = kvs.map(kv => decodeApiKeyRecord(kv.value));
  const used = await Promise.all(records.map(r => tx.get(API_KEY_LAST_USED.pack([r.id]), { snapshot: true })));
  return records.map((r, i) => viewOf(r, used[i]));
}

/** What operators see of `record` (last use from its separate key). */
export function viewOf(record: ApiKeyRecord, lastUsed?: Uint8Array): ApiKeyView {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: record.id,
    name: record.name,
    tenants: record.tenants,
    ...(record.access === undefined ? {} : { access: record.access }),
    created_at: iso(record.created_at),
    expires_at: record.expires_at === null ? null : iso(record.expires_at),
    last_used_at: lastUsed === undefined ? null : iso(Number(Buffer.from(lastUsed).readBigUInt64BE())),
    ...(record.previous === undefined ? {} : { previous_secret_until: iso(record.previous.until) }),
  };
}

/** Record that key `id` was used at `nowMs` (a blind write: no conflict with anything). */
export function touchApiKey(tx: Transaction, id: string, nowMs: number): void {
  const v = Buffer.alloc(8);
  v.writeBigUInt64BE(BigInt(Math.floor(nowMs)));
  tx.set(API_KEY_LAST_USED.pack([id]), v);
}

/** Why a presented key does not authenticate; the same message for every reason, so a guesser learns nothing. */
export function apiKeyRefused(): StrataError {
  return new StrataError('ERR_AUTH_APIKEY_INVALID', 'the API key is not valid (unknown, wrong, expired or revoked)');
}

/** SHA-256 of a presented secret, as {@link secretValidUntil} takes it. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * Until when a secret whose SHA-256 is `secretHash` opens `record`, as seen at `nowMs` (the key's
 * expiry, or the end of a rotation's grace for the previous secret), or undefined when it does
 * not. Constant time in the secret: both stored hashes are always compared, whole.
 */
export function secretValidUntil(record: ApiKeyRecord, secretHash: Buffer, nowMs: number): number | undefined {
  const expiry = record.expires_at ?? Number.MAX_SAFE_INTEGER;
  const current = timingSafeEqual(secretHash, Buffer.from(record.hash, 'hex'));
  const previous = record.previous !== undefined && timingSafeEqual(secretHash, Buffer.from(record.previous.hash, 'hex'));
  if (nowMs >= expiry) return undefined;
  if (current) return expiry;
  if (previous && record.previous !== undefined && nowMs < record.previous.until) return Math.min(expiry, record.previous.until);
  return undefined;
}

/**
 * Authenticate a presented key inside `tx`: its record, the stored bytes (which a cache keeps to
 * notice a later change with one read) and the secret's hash, or `ERR_AUTH_APIKEY_INVALID` for
 * anything wrong.
 */
export async function authenticateApiKey(tx: Transaction, text: string, nowMs: number): Promise<{ record: ApiKeyRecord; bytes: Uint8Array; secretHash: Buffer }> {
  const parsed = parseApiKey(text);
  if (parsed === undefined) throw apiKeyRefused();
  const bytes = await apiKeyBytes(tx, parsed.id);
  if (bytes === undefined) throw apiKeyRefused();
  const record = decodeApiKeyRecord(bytes);
  const secretHash = hashSecret(parsed.secret);
  if (secretValidUntil(record, secretHash, nowMs) === undefined) throw apiKeyRefused();
  return { record, bytes, secretHash };
}

/** The id part of a presented key (for per-key rate limits), or undefined when it has none. */
export function apiKeyIdOf(text: string): string | undefined {
  return parseApiKey(text)?.id;
}
