import { createHash, randomBytes } from 'node:crypto';
import { keyAfter } from '../kv/keys.js';
import type { Transaction } from '../kv/types.js';
import { SYSTEM } from '../tenancy/layout.js';
import type { AccessClaim } from './claims.js';

/**
 * Refresh tokens (OAuth 2.0 Security Best Current Practice, RFC 9700 §4.14): opaque, single-use,
 * stored only as a SHA-256 hash, and rotated on every use. Each belongs to a family (every token
 * descended from one API key exchange); presenting a token that was already used means it was
 * copied, so the whole family is revoked and neither the thief nor the rightful holder can go on.
 * Layout pinned by test/auth/refresh-tokens.test.ts.
 */

/** `\xfe ('auth', 'refresh', sha256 hex)` → JSON {@link StoredRefreshToken}. */
export const REFRESH_TOKENS = SYSTEM.subspace(['auth', 'refresh']);
/** `\xfe ('auth', 'refresh_family', family)` → JSON {@link StoredFamily}. */
export const REFRESH_FAMILIES = SYSTEM.subspace(['auth', 'refresh_family']);

const PREFIX = 'strata_rt_';
const SHAPE = /^strata_rt_[A-Za-z0-9_-]{43}$/;

/** What a refresh token grants: the same scope as the exchange that began its family. */
export interface RefreshGrant {
  readonly family: string;
  readonly keyId: string;
  readonly tenants: readonly string[];
  readonly access?: AccessClaim;
  /** Epoch ms. */
  readonly expiresAt: number;
}

interface StoredRefreshToken {
  readonly family: string;
  readonly key_id: string;
  readonly tenants: readonly string[];
  readonly access?: AccessClaim;
  readonly expires_at: number;
  /** When it was exchanged (epoch ms), or null while unused. */
  readonly used_at: number | null;
}

interface StoredFamily {
  readonly key_id: string;
  readonly revoked_at: number | null;
  readonly expires_at: number;
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const parse = <T>(bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8')) as T;

/**
 * Store a new refresh token for `grant` (a new family when `grant.family` is empty) and return its
 * text, shown only to the caller.
 */
export function issueRefreshToken(tx: Transaction, grant: Omit<RefreshGrant, 'family'> & { family?: string }): { token: string; family: string } {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const family = grant.family ?? randomBytes(12).toString('hex');
  const stored: StoredRefreshToken = {
    family,
    key_id: grant.keyId,
    tenants: grant.tenants,
    ...(grant.access === undefined ? {} : { access: grant.access }),
    expires_at: grant.expiresAt,
    used_at: null,
  };
  tx.set(REFRESH_TOKENS.pack([hashOf(token)]), json(stored));
  if (grant.family === undefined) {
    tx.set(REFRESH_FAMILIES.pack([family]), json({ key_id: grant.keyId, revoked_at: null, expires_at: grant.expiresAt } satisfies StoredFamily));
  }
  return { token, family };
}

/** The outcome of presenting a refresh token. */
export type Redemption =
  | { readonly kind: 'ok'; readonly grant: RefreshGrant }
  /** Unknown, expired, or of a revoked family. */
  | { readonly kind: 'invalid' }
  /** Already used: the family has been revoked in this transaction (commit it, then refuse). */
  | { readonly kind: 'reused'; readonly family: string };

/**
 * Spend a refresh token in `tx`: marks it used and returns its grant, or says why not. A reuse
 * revokes the family in `tx`, so the caller must commit before refusing.
 */
export async function redeemRefreshToken(tx: Transaction, text: string, nowMs: number): Promise<Redemption> {
  if (!SHAPE.test(text)) return { kind: 'invalid' };
  const key = REFRESH_TOKENS.pack([hashOf(text)]);
  const bytes = await tx.get(key);
  if (bytes === undefined) return { kind: 'invalid' };
  const stored = parse<StoredRefreshToken>(bytes);
  const familyKey = REFRESH_FAMILIES.pack([stored.family]);
  const familyBytes = await tx.get(familyKey);
  const family = familyBytes === undefined ? undefined : parse<StoredFamily>(familyBytes);
  if (family === undefined || family.revoked_at !== null) return { kind: 'invalid' };
  if (stored.used_at !== null) {
    tx.set(familyKey, json({ ...family, revoked_at: nowMs } satisfies StoredFamily));
    return { kind: 'reused', family: stored.family };
  }
  if (nowMs >= stored.expires_at) return { kind: 'invalid' };
  tx.set(key, json({ ...stored, used_at: nowMs } satisfies StoredRefreshToken));
  return {
    kind: 'ok',
    grant: { family: stored.family, keyId: stored.key_id, tenants: stored.tenants, ...(stored.access === undefined ? {} : { access: stored.access }), expiresAt: stored.expires_at },
  };
}

/** Where a sweep goes on from: a cursor per subspace (undefined: from the start). */
export interface SweepCursor {
  tokens?: Uint8Array | undefined;
  families?: Uint8Array | undefined;
}

/**
 * Drop refresh tokens and families past their expiry, up to `limit` entries of each per call,
 * going on from `cursor`; returns how many went and the cursor for the next call (reset at the
 * end). The server runs it on an interval, so spent and expired tokens do not pile up.
 */
export async function sweepRefreshTokens(tx: Transaction, nowMs: number, from: Readonly<SweepCursor> = {}, limit = 1000): Promise<{ dropped: number; next: SweepCursor }> {
  let dropped = 0;
  const cursor: SweepCursor = { ...from };
  for (const [name, space] of [['tokens', REFRESH_TOKENS], ['families', REFRESH_FAMILIES]] as const) {
    const { begin, end } = space.range();
    const { kvs, more } = await tx.getRange(cursor[name] ?? begin, end, { limit });
    for (const { key, value } of kvs) {
      if (parse<{ expires_at: number }>(value).expires_at <= nowMs) {
        tx.clear(key);
        dropped++;
      }
    }
    const last = kvs[kvs.length - 1];
    cursor[name] = more && last !== undefined ? keyAfter(last.key) : undefined;
  }
  return { dropped, next: cursor };
}
