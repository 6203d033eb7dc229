import { StrataError } from '../errors.js';
import { tenantNameBytes } from '../tenancy/name.js';

/**
 * The claims of a Strata token (DESIGN §4) and their shape checks: what a verified token tells the
 * server. Kept apart from the verifier so that `strata token mint` checks `--access` and
 * `--value-exists` with the very rules the server applies, and never mints a token it would refuse.
 *
 * Every check throws `ERR_AUTH_TOKEN_INVALID`. Messages name the claim, never echo the token.
 */

/** A scalar a payload condition compares against: Qdrant's `ValueVariants` (string, integer, bool). */
export type ScalarValue = string | number | boolean;

/** One item of an `access` list: rights in one collection (or, ending in `*`, a name prefix). */
export interface CollectionAccess {
  readonly collection: string;
  /** `r` read; `rw` read-write; `prw` points read-write (no payload indexes, no snapshots). */
  readonly access: 'r' | 'rw' | 'prw';
  /** Scopes the token to the points carrying these payload values (Qdrant 1.9-1.15). */
  readonly payload?: Readonly<Record<string, ScalarValue>>;
}

/** The `access` extension: absent = full rights, `r` read-only, `m` manage, or per-collection rights. */
export type AccessClaim = 'r' | 'm' | readonly CollectionAccess[];

/** One condition of a points `value_exists`: the payload field `key` holds `value`. */
export interface ValueMatch {
  readonly key: string;
  readonly value: ScalarValue;
}

/** `value_exists` as Qdrant has it: the token holds while a point matching every condition exists. */
export interface PointsValueExists {
  readonly kind: 'points';
  readonly collection: string;
  readonly matches: readonly ValueMatch[];
}

/**
 * `value_exists` for key-value users: the token holds while `key` holds `value`. Both stay in
 * canonical standard base64 (decode with `Buffer.from(s, 'base64')`): strings can be frozen and
 * shared between cache hits, bytes cannot.
 */
export interface KeyValueExists {
  readonly kind: 'kv';
  readonly key: string;
  readonly value: string;
  /** The tenant to look in (decoded name, one of the token's); absent = the tenant addressed. */
  readonly tenant?: string;
}

/** The `value_exists` extension, tagged by `kind` so a `switch` narrows it. */
export type ValueExistsClaim = PointsValueExists | KeyValueExists;

/**
 * A token that verified: its signature, header and claims all hold. Frozen throughout, because the
 * token cache hands the same object to every request that presents the same token.
 */
export interface VerifiedToken {
  /** Tenant names (decoded from the token's base64), in the token's order, without repeats. */
  readonly tenants: readonly string[];
  /** Expiry, not-before and issued-at, in epoch seconds as the token has them. */
  readonly exp: number;
  readonly nbf: number;
  readonly iat: number;
  /** The key that signed it. */
  readonly kid: string;
  readonly jti?: string;
  readonly sub?: string;
  readonly iss?: string;
  /** The audience, always as a list (the token may give a string). */
  readonly aud?: readonly string[];
  readonly access?: AccessClaim;
  readonly valueExists?: ValueExistsClaim;
  /**
   * The API key a token was exchanged from (`POST /v1/auth/token`): the token holds only while that
   * key exists, so revoking the key stops its tokens on their next use.
   */
  readonly akid?: string;
}

/** An `ERR_AUTH_TOKEN_INVALID` error with `message`, for the caller to throw. */
export function invalidToken(message: string): StrataError<'ERR_AUTH_TOKEN_INVALID'> {
  return new StrataError('ERR_AUTH_TOKEN_INVALID', message);
}

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decode standard, padded base64, or undefined when `s` is not exactly the canonical encoding of
 * its bytes. Node's decoder skips stray characters and ignores non-zero padding bits, so two
 * different strings could name one tenant; only the canonical one is accepted.
 */
export function decodeCanonicalBase64(s: string): Buffer | undefined {
  if (!STANDARD_BASE64.test(s)) return undefined;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : undefined;
}

/** The base64 of a tenant name's UTF-8, as tokens carry it. Throws ERR_TENANT_NAME_INVALID. */
export function encodeTenantName(name: string): string {
  return Buffer.from(tenantNameBytes(name)).toString('base64');
}

/** Decode one `tenants` entry (or `value_exists.tenant`) to a valid tenant name. */
export function decodeTenantName(value: unknown, claim: string): string {
  if (typeof value !== 'string') throw invalidToken(`${claim} must hold strings`);
  const bytes = decodeCanonicalBase64(value);
  if (bytes === undefined) throw invalidToken(`${claim} must hold canonical standard base64`);
  const name = bytes.toString('utf8');
  // A lossy decode (invalid UTF-8 turned into U+FFFD) would name a different tenant.
  if (!Buffer.from(name, 'utf8').equals(bytes)) throw invalidToken(`${claim} must hold base64 of UTF-8`);
  try {
    tenantNameBytes(name);
  } catch {
    throw invalidToken(`${claim} holds an invalid tenant name`);
  }
  return name;
}

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is ScalarValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isSafeInteger(value));
}

function nonEmptyString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw invalidToken(`${what} must be a non-empty string`);
  return value;
}

const ACCESS_LEVELS: ReadonlySet<unknown> = new Set(['r', 'rw', 'prw']);

function parsePayloadScope(value: unknown): Readonly<Record<string, ScalarValue>> {
  if (!isObject(value)) throw invalidToken('access[].payload must be an object');
  const entries = Object.entries(value);
  for (const [field, v] of entries) {
    if (field === '' || !isScalar(v)) throw invalidToken('access[].payload must map field names to strings, integers or booleans');
  }
  // fromEntries defines own properties, so a field called "__proto__" stays a plain field.
  return Object.freeze(Object.fromEntries(entries) as Record<string, ScalarValue>);
}

/** Check the `access` extension's shape; undefined when absent. */
export function parseAccess(value: unknown): AccessClaim | undefined {
  if (value === undefined || value === 'r' || value === 'm') return value;
  if (!Array.isArray(value)) throw invalidToken('access must be "r", "m" or a list of {collection, access}');
  const items = value.map((item: unknown): CollectionAccess => {
    if (!isObject(item)) throw invalidToken('access[] items must be objects');
    const collection = nonEmptyString(item['collection'], 'access[].collection');
    const access = item['access'];
    if (!ACCESS_LEVELS.has(access)) throw invalidToken('access[].access must be "r", "rw" or "prw"');
    const level = access as CollectionAccess['access'];
    const payload = item['payload'];
    return Object.freeze(
      payload === undefined ? { collection, access: level } : { collection, access: level, payload: parsePayloadScope(payload) },
    );
  });
  return Object.freeze(items);
}

/**
 * Check the `value_exists` extension's shape; undefined when absent. `tenants` are the token's own
 * (decoded): a key-value form's `tenant` must be one of them.
 */
export function parseValueExists(value: unknown, tenants: readonly string[]): ValueExistsClaim | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalidToken('value_exists must be an object');
  if (value['collection'] !== undefined) {
    const collection = nonEmptyString(value['collection'], 'value_exists.collection');
    const matches = value['matches'];
    if (!Array.isArray(matches) || matches.length === 0) throw invalidToken('value_exists.matches must be a non-empty list');
    const parsed = matches.map((m: unknown): ValueMatch => {
      if (!isObject(m)) throw invalidToken('value_exists.matches[] items must be objects');
      const key = nonEmptyString(m['key'], 'value_exists.matches[].key');
      const v = m['value'];
      if (!isScalar(v)) throw invalidToken('value_exists.matches[].value must be a string, integer or boolean');
      return Object.freeze({ key, value: v });
    });
    return Object.freeze({ kind: 'points', collection, matches: Object.freeze(parsed) });
  }
  const key = value['key'];
  const v = value['value'];
  if (typeof key !== 'string' || decodeCanonicalBase64(key) === undefined || typeof v !== 'string' || decodeCanonicalBase64(v) === undefined) {
    throw invalidToken('value_exists must be {collection, matches} or {key, value} in standard base64');
  }
  if (value['tenant'] === undefined) return Object.freeze({ kind: 'kv', key, value: v });
  const tenant = decodeTenantName(value['tenant'], 'value_exists.tenant');
  if (!tenants.includes(tenant)) throw invalidToken('value_exists.tenant must be one of the token’s tenants');
  return Object.freeze({ kind: 'kv', key, value: v, tenant });
}

function numericDate(payload: Readonly<Record<string, unknown>>, claim: 'exp' | 'nbf' | 'iat'): number {
  const v = payload[claim];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidToken(`the ${claim} claim must be a number`);
  return v;
}

function optionalString(payload: Readonly<Record<string, unknown>>, claim: string): string | undefined {
  const v = payload[claim];
  if (v !== undefined && typeof v !== 'string') throw invalidToken(`the ${claim} claim must be a string`);
  return v;
}

/** Options of {@link parseClaims}. */
export interface ParseClaimsOptions {
  /**
   * The claim the tenants come from (default `tenants`). `tenants` holds base64 names, as Strata's
   * own tokens do; any other claim (an identity provider's, e.g. `org`) holds plain tenant names, a
   * string or a list of strings, and `tenants` is then not read at all.
   */
  readonly tenantsClaim?: string;
}

/** The tenant names of `claim`, plain (not base64): a string or a non-empty list of strings. */
function plainTenants(payload: Readonly<Record<string, unknown>>, claim: string): string[] {
  // Own members only: a claim named like an Object.prototype member must not read the prototype.
  const value = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const what = `the ${JSON.stringify(claim).slice(0, 80)} claim`;
  if (list.length === 0) throw invalidToken(`${what} (the tenants) must be a tenant name or a non-empty list of them`);
  return list.map(name => {
    if (typeof name !== 'string') throw invalidToken(`${what} must hold strings`);
    try {
      tenantNameBytes(name);
    } catch {
      throw invalidToken(`${what} holds an invalid tenant name`);
    }
    return name;
  });
}

/**
 * Check a token payload's claims (shapes only: the verifier checks times, issuer and audience)
 * and build the frozen {@link VerifiedToken}. `kid` is the header's key id.
 */
export function parseClaims(payload: unknown, kid: string, options: ParseClaimsOptions = {}): VerifiedToken {
  if (!isObject(payload)) throw invalidToken('the token payload must be a JSON object');
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  const tenantsClaim = options.tenantsClaim ?? 'tenants';
  let names: string[];
  if (tenantsClaim === 'tenants') {
    const list = payload['tenants'];
    if (!Array.isArray(list) || list.length === 0) throw invalidToken('the tenants claim must be a non-empty list');
    names = list.map((t: unknown) => decodeTenantName(t, 'the tenants claim'));
  } else {
    names = plainTenants(payload, tenantsClaim);
  }
  const tenants = Object.freeze([...new Set(names)]);
  const jti = optionalString(payload, 'jti');
  const sub = optionalString(payload, 'sub');
  const iss = optionalString(payload, 'iss');
  const rawAud = payload['aud'];
  let aud: readonly string[] | undefined;
  if (typeof rawAud === 'string') aud = Object.freeze([rawAud]);
  else if (Array.isArray(rawAud) && rawAud.every((a: unknown) => typeof a === 'string')) aud = Object.freeze([...(rawAud as string[])]);
  else if (rawAud !== undefined) throw invalidToken('the aud claim must be a string or a list of strings');
  const access = parseAccess(payload['access']);
  const valueExists = parseValueExists(payload['value_exists'], tenants);
  const akid = optionalString(payload, 'akid');
  return Object.freeze({
    tenants,
    exp,
    nbf,
    iat,
    kid,
    ...(jti === undefined ? {} : { jti }),
    ...(sub === undefined ? {} : { sub }),
    ...(iss === undefined ? {} : { iss }),
    ...(aud === undefined ? {} : { aud }),
    ...(access === undefined ? {} : { access }),
    ...(valueExists === undefined ? {} : { valueExists }),
    ...(akid === undefined ? {} : { akid }),
  });
}
