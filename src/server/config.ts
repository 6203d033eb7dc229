import { invalidArgument } from '../errors.js';

/**
 * `strata serve`'s flags and knobs (DESIGN §5): fdbserver-style `--flag VALUE` / `--flag=VALUE`,
 * `--trusted-subnet-NAME=CIDR` (repeatable), and `--knob_NAME=VALUE`, each knob also settable from
 * the environment as `STRATA_KNOB_NAME`. A flag given on the command line wins over the environment.
 */

/** Every knob, its default, and what it does. Defaults follow FoundationDB where it has the knob. */
export const KNOBS = {
  public_key_file_refresh_interval_seconds: { default: 300, kind: 'seconds', help: 're-read the JWK Set file this often (FDB: 300)' },
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
  'metrics-listen': { value: 'HOST:PORT', help: 'also serve GET /metrics, without TLS, on this address' },
  'snapshots-dir': { value: 'DIR', help: 'where collection snapshots are kept (default DATA_DIR/snapshots; ./snapshots on FoundationDB)' },
} as const;

export type ServeFlag = keyof typeof SERVE_FLAGS;

export interface ServeConfig {
  readonly flags: Partial<Record<ServeFlag, string>>;
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
  if (spec.kind === 'string') return raw;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) throw invalidArgument(`knob ${name} takes a whole number, got ${JSON.stringify(raw)}`);
  if (name === 'token_clock_skew_seconds' && n > 60) throw invalidArgument('knob token_clock_skew_seconds is at most 60');
  if (['vector_cache_bytes', 'vector_index_batch_ms', 'max_in_flight_requests', 'max_connections'].includes(name) && n < 1) throw invalidArgument(`knob ${name} is at least 1`);
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
    } else if (name in SERVE_FLAGS) flags[name as ServeFlag] = value();
    else throw invalidArgument(`unknown flag --${name} (see strata serve --help)`);
  }
  if (flags['data-dir'] !== undefined && flags['cluster-file'] !== undefined) throw invalidArgument('give --data-dir or --cluster-file, not both');
  return { flags, trustedSubnets, knobs: knobs as Knobs, help };
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
    ...Object.entries(SERVE_FLAGS).map(([name, f]) => `  --${`${name} ${f.value}`.padEnd(42)} ${f.help}`),
    `  --${'trusted-subnet-NAME=CIDR'.padEnd(42)} trust operators only from these subnets (repeatable; IPv4/IPv6)`,
    '',
    'Knobs (--knob_NAME=VALUE, or the environment variable STRATA_KNOB_NAME):',
    ...Object.entries(KNOBS).map(([name, k]) => `  --knob_${`${name}=${String(k.default)}`.padEnd(50)} ${k.help}`),
  ];
  return lines.join('\n');
}
