import { invalidArgument } from '../errors.js';

/**
 * `strata serve`'s flags and knobs (DESIGN §5): fdbserver-style `--flag VALUE` / `--flag=VALUE`,
 * `--trusted-subnet-NAME=CIDR` (repeatable), and `--knob_NAME=VALUE`, each knob also settable from
 * the environment as `STRATA_KNOB_NAME`. A flag given on the command line wins over the environment.
 */

/** Every knob, its default, and what it does. Defaults follow FoundationDB where it has the knob. */
export const KNOBS = {
  public_key_file_refresh_interval_seconds: { default: 300, kind: 'seconds', help: 're-read the JWK Set file this often (FDB: 300)' },
  jwks_refresh_interval_seconds: { default: 300, kind: 'seconds', help: 'fetch the identity providers\' JWKS URLs this often (and at once, at most every 30 s, for an unknown kid)' },
  jwks_tenants_claim: { default: 'tenants', kind: 'string', help: 'the claim a provider token\'s tenants come from: plain names, unless it is tenants (base64)' },
  token_cache_size: { default: 2000, kind: 'count', help: 'verified tokens kept, LRU; 0 turns the cache off (FDB: 2000)' },
  allow_tokenless_tenant_access: { default: false, kind: 'boolean', help: 'let untrusted callers reach any tenant without a token (rollout)' },
  bad_certificate_throttle_seconds: { default: 9, kind: 'seconds', help: 'close connections from an address that presented a bad certificate for this long (FDB: 9)' },
  token_issuer: { default: '', kind: 'string', help: 'when set, tokens must carry this iss' },
  token_audience: { default: '', kind: 'string', help: 'when set, tokens must list this aud' },
  token_clock_skew_seconds: { default: 0, kind: 'seconds', help: 'tolerance on exp and nbf, at most 60 (FDB: 0)' },
  max_token_size_bytes: { default: 8192, kind: 'count', help: 'longest token accepted' },
  audit_time_window_seconds: { default: 5, kind: 'seconds', help: 'log an accepted token once per address, tenant and jti per window (FDB: 5)' },
  max_request_body_bytes: { default: 16 * 1024 * 1024, kind: 'count', help: 'largest request body' },
  max_in_flight_requests: { default: 1000, kind: 'count', help: 'requests answered at once; more get 503 ERR_SERVER_OVERLOADED with Retry-After' },
  max_snapshot_upload_bytes: { default: 4 * 1024 * 1024 * 1024, kind: 'count', help: 'largest snapshot a tenant may upload to restore a collection (413 past it)' },
  max_connections: { default: 10000, kind: 'count', help: 'open connections; more are closed at once' },
  vector_cache_bytes: { default: 256 * 1024 * 1024, kind: 'count', help: 'decoded vectors kept for graph searches (and as much again for the indexer)' },
  metrics_tenant_labels: { default: 100, kind: 'count', help: 'tenants with a metrics label of their own (the busiest); the rest count as "other"' },
  vector_index_batch_ms: { default: 250, kind: 'count', help: 'how long one indexer transaction links points before committing, in ms' },
  tenant_read_rate_limit: { default: 0, kind: 'count', help: 'reads per minute per tenant, for token holders (0: none); a tenant\'s own limit wins' },
  tenant_write_rate_limit: { default: 0, kind: 'count', help: 'writes per minute per tenant, for token holders (0: none); a tenant\'s own limit wins' },
  subject_read_rate_limit: { default: 0, kind: 'count', help: 'reads per minute per token subject (sub) (0: none)' },
  subject_write_rate_limit: { default: 0, kind: 'count', help: 'writes per minute per token subject (sub) (0: none)' },
  tenant_max_points: { default: 0, kind: 'count', help: 'points a tenant may hold over all its collections (0: none); a tenant\'s own quota wins' },
  access_token_ttl_seconds: { default: 900, kind: 'seconds', help: 'lifetime of an access token from POST /v1/auth/token (at most 3600; never past its API key)' },
  refresh_token_ttl_seconds: { default: 30 * 24 * 3600, kind: 'seconds', help: 'lifetime of a refresh token family (never past its API key)' },
  auth_failures_per_minute: { default: 20, kind: 'count', help: 'failed API key or refresh token attempts per address and per key id; more get 429' },
  tenant_max_bytes: { default: 0, kind: 'count', help: 'bytes of payloads and vectors a tenant may hold (0: none); a tenant\'s own quota wins' },
} as const;

export type KnobName = keyof typeof KNOBS;
export type Knobs = { -readonly [K in KnobName]: (typeof KNOBS)[K]['default'] extends boolean ? boolean : (typeof KNOBS)[K]['default'] extends number ? number : string };

/** The fixed flags of `strata serve`. */
export const SERVE_FLAGS = {
  listen: { value: 'HOST:PORT', help: 'address to listen on (default 127.0.0.1:6333)' },
  'data-dir': { value: 'DIR', help: 'embedded engine data directory (default ./data)' },
  'cluster-file': { value: 'FILE', help: 'use FoundationDB through this cluster file instead' },
  'tls-certificate-file': { value: 'FILE', help: 'server certificate (PEM)' },
  'tls-key-file': { value: 'FILE', help: 'server private key (PEM)' },
  'tls-ca-file': { value: 'FILE', help: 'CA that signs trusted client (operator) certificates (PEM)' },
  'authorization-public-key-file': { value: 'FILE', help: 'JWK Set of the public keys that sign tokens' },
  'authorization-jwks-ca-file': { value: 'FILE', help: 'an extra CA (PEM) trusted for the identity providers\' JWKS URLs' },
  'metrics-listen': { value: 'HOST:PORT', help: 'also serve GET /metrics, without TLS, on this address' },
  'snapshots-dir': { value: 'DIR', help: 'where collection snapshots are kept (default DATA_DIR/snapshots; ./snapshots on FoundationDB)' },
} as const;

export type ServeFlag = keyof typeof SERVE_FLAGS;

/** The repeatable flags naming external identity providers, paired by order. */
export const JWKS_FLAGS = {
  'authorization-jwks-url': { value: 'URL', help: 'JWK Set (https:) of an identity provider whose tokens are accepted (repeatable, one per issuer)' },
  'authorization-jwks-issuer': { value: 'ISS', help: 'the iss of that provider\'s tokens (one per URL, in the same order)' },
  'authorization-jwks-audience': { value: 'AUD', help: 'the aud its tokens must include (once for all URLs, or once per URL)' },
} as const;

type JwksFlag = keyof typeof JWKS_FLAGS;

/** One external identity provider (`--authorization-jwks-url`, `-issuer`, `-audience`). */
export interface JwksProvider {
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
}

export interface ServeConfig {
  readonly flags: Partial<Record<ServeFlag, string>>;
  /** The identity providers whose tokens are accepted, checked for shape (https:, pairs complete). */
  readonly jwks: readonly JwksProvider[];
  readonly trustedSubnets: Array<[string, string]>;
  readonly knobs: Knobs;
  readonly help: boolean;
}

function parseKnob(name: string, raw: string): boolean | number | string {
  if (!(name in KNOBS)) throw invalidArgument(`unknown knob ${name} (see strata serve --help)`);
  const spec = KNOBS[name as KnobName];
  if (spec.kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw invalidArgument(`knob ${name} takes true or false, got ${JSON.stringify(raw)}`);
    return raw === 'true';
  }
  if (spec.kind === 'string') {
    if (name === 'jwks_tenants_claim' && raw === '') throw invalidArgument('knob jwks_tenants_claim names a claim; it cannot be empty');
    return raw;
  }
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) throw invalidArgument(`knob ${name} takes a whole number, got ${JSON.stringify(raw)}`);
  if (name === 'token_clock_skew_seconds' && n > 60) throw invalidArgument('knob token_clock_skew_seconds is at most 60');
  if (name === 'jwks_refresh_interval_seconds' && n < 1) throw invalidArgument('knob jwks_refresh_interval_seconds is at least 1');
  if (name === 'access_token_ttl_seconds' && (n < 1 || n > 3600)) throw invalidArgument('knob access_token_ttl_seconds is from 1 to 3600');
  if (['vector_cache_bytes', 'vector_index_batch_ms', 'max_in_flight_requests', 'max_connections', 'auth_failures_per_minute', 'refresh_token_ttl_seconds'].includes(name) && n < 1) throw invalidArgument(`knob ${name} is at least 1`);
  return n;
}

/** Parse `strata serve`'s arguments and the `STRATA_KNOB_*` environment. */
export function parseServeArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const knobs = Object.fromEntries(Object.entries(KNOBS).map(([k, v]) => [k, v.default])) as Record<string, boolean | number | string>;
  for (const [key, raw] of Object.entries(env)) {
    if (key.startsWith('STRATA_KNOB_') && raw !== undefined) {
      const name = key.slice('STRATA_KNOB_'.length).toLowerCase();
      knobs[name] = parseKnob(name, raw);
    }
  }
  const flags: Partial<Record<ServeFlag, string>> = {};
  const trustedSubnets: Array<[string, string]> = [];
  const jwksFlags: Record<JwksFlag, string[]> = { 'authorization-jwks-url': [], 'authorization-jwks-issuer': [], 'authorization-jwks-audience': [] };
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw invalidArgument(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const value = () => {
      if (eq !== -1) return arg.slice(eq + 1);
      const next = args[++i];
      if (next === undefined) throw invalidArgument(`--${name} needs a value`);
      return next;
    };
    if (name.startsWith('knob_')) knobs[name.slice(5)] = parseKnob(name.slice(5), value());
    else if (name.startsWith('trusted-subnet-') && name.length > 'trusted-subnet-'.length) {
      trustedSubnets.push([name.slice('trusted-subnet-'.length), value()]);
    } else if (name in JWKS_FLAGS) jwksFlags[name as JwksFlag].push(value());
    else if (name in SERVE_FLAGS) flags[name as ServeFlag] = value();
    else throw invalidArgument(`unknown flag --${name} (see strata serve --help)`);
  }
  if (flags['data-dir'] !== undefined && flags['cluster-file'] !== undefined) throw invalidArgument('give --data-dir or --cluster-file, not both');
  const jwks = pairJwksFlags(jwksFlags, flags['authorization-jwks-ca-file'] !== undefined);
  return { flags, jwks, trustedSubnets, knobs: knobs as Knobs, help };
}

/** Pair the URLs with their issuers (by order) and audiences (one for all, or one each), and check them. */
function pairJwksFlags(given: Record<JwksFlag, string[]>, caFile: boolean): JwksProvider[] {
  const { 'authorization-jwks-url': urls, 'authorization-jwks-issuer': issuers, 'authorization-jwks-audience': audiences } = given;
  if (urls.length === 0) {
    if (issuers.length > 0 || audiences.length > 0 || caFile) {
      throw invalidArgument('--authorization-jwks-issuer, --authorization-jwks-audience and --authorization-jwks-ca-file need an --authorization-jwks-url');
    }
    return [];
  }
  if (issuers.length !== urls.length) {
    throw invalidArgument(`give one --authorization-jwks-issuer per --authorization-jwks-url, in the same order (got ${urls.length} URLs and ${issuers.length} issuers)`);
  }
  if (audiences.length !== 1 && audiences.length !== urls.length) {
    throw invalidArgument(`give one --authorization-jwks-audience for all URLs or one per URL (got ${urls.length} URLs and ${audiences.length} audiences)`);
  }
  const seen = new Set<string>();
  return urls.map((url, i) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed?.protocol !== 'https:') throw invalidArgument(`--authorization-jwks-url takes an https: URL, got ${JSON.stringify(url)}`);
    if (parsed.username !== '' || parsed.password !== '') throw invalidArgument('--authorization-jwks-url must not carry credentials');
    const issuer = issuers[i] as string;
    const audience = (audiences.length === 1 ? audiences[0] : audiences[i]) as string;
    if (issuer === '') throw invalidArgument(`--authorization-jwks-issuer for ${url} is empty`);
    if (audience === '') throw invalidArgument(`--authorization-jwks-audience for ${url} is empty`);
    // The issuer is how a token picks its provider's keys: two providers under one would be ambiguous.
    if (seen.has(issuer)) throw invalidArgument(`two --authorization-jwks-url share the issuer ${JSON.stringify(issuer)}`);
    seen.add(issuer);
    return { url, issuer, audience };
  });
}

/** `host:port` (IPv6 hosts in brackets) into its parts. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) throw invalidArgument(`--listen takes HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** The help text of `strata serve`, listing every flag and knob with its default. */
export function serveHelp(): string {
  const lines = [
    'Usage: strata serve [flags] [--trusted-subnet-NAME=CIDR ...] [--knob_NAME=VALUE ...]',
    '',
    'Start the Strata HTTPS server: mutual-TLS operators, token-holding tenants, the native API.',
    'With no TLS flags it makes development certificates and a signing key under ./certs/dev',
    '(using openssl) and prints how to mint a token and call the API with curl.',
    '',
    'Flags:',
    ...[...Object.entries(SERVE_FLAGS), ...Object.entries(JWKS_FLAGS)].map(([name, f]) => `  --${`${name} ${f.value}`.padEnd(42)} ${f.help}`),
    `  --${'trusted-subnet-NAME=CIDR'.padEnd(42)} trust operators only from these subnets (repeatable; IPv4/IPv6)`,
    '',
    'Knobs (--knob_NAME=VALUE, or the environment variable STRATA_KNOB_NAME):',
    ...Object.entries(KNOBS).map(([name, k]) => `  --knob_${`${name}=${String(k.default)}`.padEnd(50)} ${k.help}`),
  ];
  return lines.join('\n');
}
