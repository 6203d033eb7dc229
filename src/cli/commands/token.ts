import { invalidArgument } from '../../errors.js';
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { revokeToken } from '../../auth/revocation.js';
import { NativeClient } from '../../client/native-client.js';
import { withDatabase } from '../connect.js';
import { devOrGiven } from '../store.js';
import { positiveInteger, serverOptions, storeOptions, withStoreOptions } from './options.js';
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { encodeTenantName, parseAccess, parseValueExists } from '../../auth/claims.js';
import type { KeyAlgorithm } from '../../auth/keyset.js';
import { isStrataError, StrataError } from '../../errors.js';
import type { Output } from '../output.js';


const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Parse a duration (`30s`, `15m`, `1h`, `7d`; a bare number is seconds) into whole seconds. */
export function parseDuration(text: string): number {
  const m = /^([1-9]\d{0,9})([smhd]?)$/.exec(text);
  if (m === null) throw invalidArgument(`--ttl must be a positive duration such as 30s, 15m, 1h or 7d; got ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_SECONDS[(m[2] || 's') as keyof typeof UNIT_SECONDS];
}

/** What {@link mintToken} signs. */
export interface MintOptions {
  /** The private JWK, as `strata keys generate` writes it (kid and alg included). */
  readonly key: Readonly<JWK>;
  readonly tenants: readonly string[];
  readonly ttlSeconds: number;
  /** Issued-at, epoch seconds (default now). */
  readonly now?: number;
  readonly jti?: string;
  readonly sub?: string;
  readonly iss?: string;
  readonly aud?: string;
  /** The `access` extension, checked with the verifier's own rules. */
  readonly access?: unknown;
  /** The `value_exists` extension, checked with the verifier's own rules. */
  readonly valueExists?: unknown;
}

/**
 * Sign a token the way the server verifies it (DESIGN §4): header typ JWT, the key's alg and kid;
 * iat = nbf = now, exp = now + ttl; tenants as base64 of each name's UTF-8. Extensions are checked
 * with the verifier's rules first, so a token the server would refuse is never minted.
 */
export async function mintToken(options: MintOptions): Promise<string> {
  const { key } = options;
  const kid = key.kid;
  if (typeof kid !== 'string' || kid === '') throw invalidArgument('the key has no kid; make keys with `strata keys generate`');
  if (typeof key.d !== 'string') throw invalidArgument(`the key ${kid} is a public key; minting needs the private key file`);
  const alg: KeyAlgorithm | undefined = key.kty === 'EC' && key.crv === 'P-256' ? 'ES256' : key.kty === 'RSA' ? 'RS256' : undefined;
  if (alg === undefined || (key.alg !== undefined && key.alg !== alg)) throw invalidArgument(`the key ${kid} is not an ES256 (EC P-256) or RS256 (RSA) key`);
  if (options.tenants.length === 0) throw invalidArgument('--tenants must name at least one tenant');
  const tenants = options.tenants.map(name => {
    try {
      return encodeTenantName(name);
    } catch (err) {
      throw invalidArgument(`--tenants: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const access = asArgument('--access', () => parseAccess(options.access));
  const valueExists = asArgument('--value-exists', () => parseValueExists(options.valueExists, options.tenants));
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    tenants,
    iat: now,
    nbf: now,
    exp: now + options.ttlSeconds,
    ...(options.jti === undefined ? {} : { jti: options.jti }),
    ...(options.sub === undefined ? {} : { sub: options.sub }),
    ...(options.iss === undefined ? {} : { iss: options.iss }),
    ...(options.aud === undefined ? {} : { aud: options.aud }),
    // The extensions go out as given: the checks above only vouch for their shape.
    ...(access === undefined ? {} : { access: options.access }),
    ...(valueExists === undefined ? {} : { value_exists: options.valueExists }),
  };
  let signingKey: Awaited<ReturnType<typeof importJWK>>;
  try {
    signingKey = await importJWK({ ...key }, alg);
  } catch {
    throw invalidArgument(`the key ${kid} does not import as an ${alg} private key`);
  }
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', kid }).sign(signingKey);
}

/** Run a claim check, reporting its failure as a bad command-line argument. */
function asArgument<T>(option: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (isStrataError(err, 'ERR_AUTH_TOKEN_INVALID')) throw invalidArgument(`${option}: ${err.message}`);
    throw err;
  }
}

function parseJsonOption(option: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw invalidArgument(`${option} must be JSON`);
  }
}

async function readPrivateKey(path: string): Promise<JWK> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw invalidArgument(`cannot read --key ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    jwk = undefined;
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalidArgument(`--key ${path} is not a JWK (a JSON object)`);
  return jwk as JWK;
}

/** `strata token …`: tokens for untrusted callers. */
export function tokenCommand(output: Output): Command {
  const token = new Command('token').description('mint tokens that grant untrusted callers access to tenants');
  token
    .command('mint')
    .description('sign a token (a JWT) with a private key from `strata keys generate`, granting the listed tenants; prints only the token')
    .option('--key <file>', 'private JWK file (required)')
    .option('--tenants <names>', 'comma-separated tenant names the token grants (required)')
    .option('--ttl <duration>', 'lifetime: 30s, 15m, 1h, 7d', '1h')
    .option('--jti <id>', 'token id, to revoke it by')
    .option('--sub <subject>', 'subject: who holds the token (logged with each request)')
    .option('--iss <issuer>', 'issuer (checked when the server sets token_issuer)')
    .option('--aud <audience>', 'audience (checked when the server sets token_audience)')
    .option('--access <json>', 'rights: r (read-only), m (manage), or JSON [{"collection", "access": "r"|"rw"|"prw", "payload"?}] (default: full rights)')
    .option('--value-exists <json>', 'hold only while {"key","value"} (base64) exists, or {"collection","matches":[{"key","value"}]}')
    .addHelpText('after', `\nExample:\n  strata token mint --key ./signing-1.private.jwk.json --tenants acme,globex --ttl 15m --jti t-1 --access r`)
    .action(async opts => {
      if (typeof opts.key !== 'string') throw invalidArgument('--key is required: the private JWK file to sign with');
      if (typeof opts.tenants !== 'string') throw invalidArgument('--tenants is required: the comma-separated tenant names to grant');
      const names = (opts.tenants as string).split(',');
      if (names.some(n => n === '')) throw invalidArgument('--tenants must be comma-separated non-empty tenant names');
      const minted = await mintToken({
        key: await readPrivateKey(opts.key),
        tenants: names,
        ttlSeconds: parseDuration(opts.ttl as string),
        ...(opts.jti === undefined ? {} : { jti: opts.jti as string }),
        ...(opts.sub === undefined ? {} : { sub: opts.sub as string }),
        ...(opts.iss === undefined ? {} : { iss: opts.iss as string }),
        ...(opts.aud === undefined ? {} : { aud: opts.aud as string }),
        // `r` and `m` are accepted bare too: quoting JSON strings in a shell is easy to get wrong.
        access: opts.access === 'r' || opts.access === 'm' ? opts.access : parseJsonOption('--access', opts.access as string | undefined),
        valueExists: parseJsonOption('--value-exists', opts.valueExists as string | undefined),
      });
      output.out(minted);
    });
  withStoreOptions(
    token
      .command('revoke')
      .description('revoke a token by its jti, on every server sharing the store, until the token expires')
      .requiredOption('--jti <id>', 'the token id to revoke')
      .option('--exp <seconds>', 'the token’s exp (epoch seconds): the revocation is dropped after it (default: kept for good)', positiveInteger),
  ).action(async opts => {
    const jti = opts.jti as string;
    const exp = opts.exp as number | undefined;
    const remote = serverOptions(opts);
    if (remote.server !== undefined) {
      const client = new NativeClient({ url: remote.server, ...devOrGiven(remote) });
      try {
        await client.revokeToken(jti, exp);
      } finally {
        client.close();
      }
    } else {
      await withDatabase(storeOptions(opts), db => db.transact(async tx => revokeToken(tx, jti, exp)));
    }
    output.out(`Revoked token ${JSON.stringify(jti)} ${exp === undefined ? 'for good' : `until ${new Date(exp * 1000).toISOString()}`}`);
  });

  return token;
}
