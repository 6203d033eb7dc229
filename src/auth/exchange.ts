import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { StrataError } from '../errors.js';
import type { Database } from '../kv/types.js';
import { apiKeyBytes, authenticateApiKey, decodeApiKeyRecord, touchApiKey, type ApiKeyRecord } from './apikeys.js';
import { encodeTenantName, parseAccess, type AccessClaim, type CollectionAccess } from './claims.js';
import type { IssuingKeys } from './issuing-keys.js';
import { issueRefreshToken, redeemRefreshToken } from './refresh-tokens.js';

/**
 * The token endpoint's work (`POST /v1/auth/token`): an API key, or a refresh token, for a
 * short-lived access token signed by the server's issuing key plus a new refresh token. The access
 * token is an ordinary Strata token (DESIGN §4) with two more claims: `akid`, the API key it came
 * from (so revoking the key stops it on the next request), and `sub` = `apikey:<id>` (so the
 * subject rate limits apply per key). It never reaches beyond the key: not past its tenants, its
 * access or its expiry.
 */

/** What the exchange needs, passed in. */
export interface ExchangeDeps {
  readonly db: Database;
  readonly issuing: IssuingKeys;
  /** Epoch ms. */
  readonly now: () => number;
  /** Lifetime of an access token (knob access_token_ttl_seconds, default 900). */
  readonly accessTtlSeconds: number;
  /** Lifetime of a refresh token family (knob refresh_token_ttl_seconds, default 30 days). */
  readonly refreshTtlSeconds: number;
  /** `iss` of the tokens (the token_issuer knob, or `strata`). */
  readonly issuer: string;
  /** `aud` of the tokens, when the server requires one. */
  readonly audience?: string;
}

/** The answer of the token endpoint (RFC 6749 §5.1). */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token: string;
}

/** What a caller may ask to narrow an exchange to. */
export interface Narrowing {
  readonly tenants?: readonly string[];
  readonly access?: unknown;
}

function exceeds(message: string): StrataError {
  return new StrataError('ERR_AUTH_GRANT_EXCEEDS_KEY', `the request asks for more than the API key grants: ${message}`);
}

const RANK = { r: 0, prw: 1, rw: 2 } as const;

/** True when `wanted`'s rights in its collections are all within `held`'s. */
function itemCovered(wanted: CollectionAccess, held: readonly CollectionAccess[]): boolean {
  return held.some(h => {
    const pattern = h.collection.endsWith('*') ? h.collection.slice(0, -1) : undefined;
    const names = pattern === undefined ? wanted.collection === h.collection : wanted.collection.startsWith(pattern);
    // prw does not include index management, which rw does; r is in both.
    const rights = RANK[wanted.access] <= RANK[h.access];
    // A payload scope can only be narrowed: every field the key pins is pinned to the same value.
    const scope = h.payload === undefined || (wanted.payload !== undefined && Object.entries(h.payload).every(([k, v]) => wanted.payload?.[k] === v));
    return names && rights && scope;
  });
}

/**
 * The access claim of a token narrowed from a key holding `held` to `wanted` (undefined: the key's
 * own). Refuses (`ERR_AUTH_GRANT_EXCEEDS_KEY`) anything wider.
 */
export function narrowAccess(held: AccessClaim | undefined, wantedRaw: unknown): AccessClaim | undefined {
  if (wantedRaw === undefined) return held;
  let wanted: AccessClaim | undefined;
  try {
    wanted = parseAccess(wantedRaw);
  } catch (err) {
    throw new StrataError('ERR_REQUEST_INVALID', `access: ${(err as Error).message}`);
  }
  // Absent and "m" are the same rights (DESIGN §4): anything fits under them.
  if (held === undefined || held === 'm') return wanted;
  if (wanted === undefined || wanted === 'm') throw exceeds('full or manage access');
  if (held === 'r') {
    if (wanted === 'r' || wanted.every(item => item.access === 'r')) return wanted;
    throw exceeds('write access');
  }
  if (wanted === 'r') throw exceeds('read access to every collection');
  for (const item of wanted) if (!itemCovered(item, held)) throw exceeds(`access to collection ${JSON.stringify(item.collection)}`);
  return wanted;
}

/** The tenants of a token narrowed from a key's to `wanted` (undefined: all of the key's). */
export function narrowTenants(held: readonly string[], wanted: readonly string[] | undefined): readonly string[] {
  if (wanted === undefined) return held;
  if (wanted.length === 0) throw new StrataError('ERR_REQUEST_INVALID', 'tenants must list at least one tenant');
  for (const t of wanted) if (!held.includes(t)) throw exceeds(`tenant ${JSON.stringify(t)}`);
  return [...new Set(wanted)];
}

/** An access token for `scope`, from key `key`: never past the key's expiry. */
async function signAccessToken(deps: ExchangeDeps, key: Pick<ApiKeyRecord, 'id' | 'expires_at'>, scope: { tenants: readonly string[]; access: AccessClaim | undefined }): Promise<{ token: string; expiresIn: number }> {
  const nowMs = deps.now();
  const now = Math.floor(nowMs / 1000);
  let exp = now + deps.accessTtlSeconds;
  if (key.expires_at !== null) exp = Math.min(exp, Math.floor(key.expires_at / 1000));
  const signer = deps.issuing.signer();
  const token = await new SignJWT({
    tenants: scope.tenants.map(encodeTenantName),
    ...(scope.access === undefined ? {} : { access: scope.access }),
    akid: key.id,
  })
    .setProtectedHeader({ typ: 'JWT', alg: 'ES256', kid: signer.kid })
    .setIssuer(deps.issuer)
    .setSubject(`apikey:${key.id}`)
    .setJti(randomBytes(16).toString('base64url'))
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(exp)
    .setAudience(deps.audience === undefined ? [] : [deps.audience])
    .sign(signer.key);
  return { token, expiresIn: Math.max(0, exp - now) };
}

/**
 * Exchange an API key for tokens, optionally narrowed to fewer tenants or less access. Rejects with
 * `ERR_AUTH_APIKEY_INVALID` (wrong, unknown, expired, revoked) or `ERR_AUTH_GRANT_EXCEEDS_KEY`.
 */
export async function exchangeApiKey(deps: ExchangeDeps, apiKey: string, narrowing: Narrowing = {}): Promise<TokenResponse> {
  const nowMs = deps.now();
  const { record, scope, refresh } = await deps.db.transact(async tx => {
    const { record } = await authenticateApiKey(tx, apiKey, nowMs);
    const scope = { tenants: narrowTenants(record.tenants, narrowing.tenants), access: narrowAccess(record.access, narrowing.access) };
    const familyExpiry = Math.min(nowMs + deps.refreshTtlSeconds * 1000, record.expires_at ?? Number.MAX_SAFE_INTEGER);
    touchApiKey(tx, record.id, nowMs);
    const refresh = issueRefreshToken(tx, { keyId: record.id, tenants: scope.tenants, ...(scope.access === undefined ? {} : { access: scope.access }), expiresAt: familyExpiry });
    return { record, scope, refresh };
  });
  const { token, expiresIn } = await signAccessToken(deps, record, scope);
  return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, refresh_token: refresh.token };
}

/**
 * Exchange a refresh token for new tokens (the presented one is spent). Rejects with
 * `ERR_AUTH_REFRESH_INVALID`, or `ERR_AUTH_REFRESH_REUSED` after revoking the family of a token
 * presented twice.
 */
export async function exchangeRefreshToken(deps: ExchangeDeps, refreshToken: string): Promise<TokenResponse> {
  const nowMs = deps.now();
  const outcome = await deps.db.transact(async tx => {
    const redeemed = await redeemRefreshToken(tx, refreshToken, nowMs);
    if (redeemed.kind !== 'ok') return redeemed;
    const { grant } = redeemed;
    // The key must still be there: revoking it ends its refresh families too.
    const keyBytes = await apiKeyBytes(tx, grant.keyId);
    const key = keyBytes === undefined ? undefined : decodeApiKeyRecord(keyBytes);
    if (key === undefined || (key.expires_at !== null && nowMs >= key.expires_at)) return { kind: 'invalid' as const };
    touchApiKey(tx, key.id, nowMs);
    const next = issueRefreshToken(tx, { family: grant.family, keyId: grant.keyId, tenants: grant.tenants, ...(grant.access === undefined ? {} : { access: grant.access }), expiresAt: grant.expiresAt });
    return { kind: 'ok' as const, key, grant, refresh: next.token };
  });
  if (outcome.kind === 'reused') {
    throw new StrataError('ERR_AUTH_REFRESH_REUSED', 'the refresh token was already used; its whole family is revoked (exchange the API key again)');
  }
  if (outcome.kind !== 'ok') throw new StrataError('ERR_AUTH_REFRESH_INVALID', 'the refresh token is not valid (unknown, expired, spent or revoked)');
  const { token, expiresIn } = await signAccessToken(deps, outcome.key, { tenants: outcome.grant.tenants, access: outcome.grant.access });
  return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, refresh_token: outcome.refresh };
}
