import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { StrataError } from '../errors.js';
import { importJwkSet, KeyHolder, type HeldKey, type JwkSetSource, type KeySetLogger, type ProviderKey, type VerificationKey } from './jwk-set.js';

/**
 * The keys of one external identity provider, fetched from its JWKS URL (`--authorization-jwks-url`).
 *
 * The document passes the same rules as the JWK Set file (`jwk-set.ts`). Every key is bound to the
 * provider's issuer, audience and tenants claim, so it verifies only that provider's tokens. The
 * set is fetched again on an interval, and at once when a token names a kid it does not know (at
 * most once per `missRefetchSeconds`): a key rotation at the provider is picked up without waiting,
 * and tokens with made-up kids cannot make Strata hammer the provider. A fetch that fails (provider
 * down, TLS refused, an answer that is too large, not JSON or not a valid JWK Set) leaves the last
 * good keys in force; a provider that is down at start-up leaves it with no keys until it answers.
 */

/** Defaults of {@link RemoteKeySetOptions}. */
export const REMOTE_KEYSET_DEFAULTS = {
  refreshIntervalSeconds: 300,
  missRefetchSeconds: 30,
  timeoutMs: 5000,
  maxBytes: 1024 * 1024,
  tenantsClaim: 'tenants',
} as const;

/** Options of {@link RemoteKeySet}. */
export interface RemoteKeySetOptions {
  /** The provider's JWK Set URL; `https:` only. */
  readonly url: string;
  /** The `iss` of the provider's tokens: only tokens naming it are looked up in this set. */
  readonly issuer: string;
  /** What the provider's tokens must list in `aud`. */
  readonly audience: string;
  /** The claim holding the tenants: `tenants` (base64, as Strata's tokens) or a claim of plain names. */
  readonly tenantsClaim?: string;
  /** An extra CA (PEM) trusted besides Node's bundled roots, for a provider with a private CA. */
  readonly ca?: string | Buffer;
  readonly logger: KeySetLogger;
  /** The clock, epoch ms (default `Date.now`): the refetch-on-miss limit and `lastReload`. */
  readonly now?: () => number;
  /** Fetch again this often once {@link RemoteKeySet.start}ed (default 300). */
  readonly refreshIntervalSeconds?: number;
  /** At most one fetch for an unknown kid per this many seconds (default 30). */
  readonly missRefetchSeconds?: number;
  /** A fetch that has not finished after this long fails (default 5000). */
  readonly timeoutMs?: number;
  /** A larger answer fails (default 1 MiB). */
  readonly maxBytes?: number;
}

/** Fetch outcomes, for metrics. */
export interface RemoteKeySetCounts {
  readonly ok: number;
  readonly failed: number;
}

/**
 * One identity provider's key set.
 *
 * @example
 * const idp = new RemoteKeySet({ url: 'https://idp.example.com/.well-known/jwks.json', issuer: 'https://idp.example.com/', audience: 'strata', logger });
 * await idp.start(); // first fetch (failure logged, not thrown), then every 300 s
 */
export class RemoteKeySet {
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
  readonly tenantsClaim: string;
  readonly #logger: KeySetLogger;
  readonly #now: () => number;
  readonly #source: JwkSetSource;
  readonly #ca: string[] | undefined;
  readonly #intervalMs: number;
  readonly #missMs: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #held = new KeyHolder<ProviderKey>();
  #lastMissFetch: number | undefined;
  #inflight: Promise<boolean> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ok = 0;
  #failed = 0;

  /** Throws a RangeError for a URL that is not `https:` (or carries credentials) and for bad options. */
  constructor(options: RemoteKeySetOptions) {
    const url = new URL(options.url);
    // Keys fetched in clear text could be swapped by anyone on the path, who could then mint tokens.
    if (url.protocol !== 'https:') throw new RangeError(`a JWKS URL must be https:, got ${JSON.stringify(url.protocol)}`);
    if (url.username !== '' || url.password !== '') throw new RangeError('a JWKS URL must not carry credentials');
    for (const name of ['issuer', 'audience'] as const) {
      if (typeof options[name] !== 'string' || options[name] === '') throw new RangeError(`${name} must be a non-empty string`);
    }
    const tenantsClaim = options.tenantsClaim ?? REMOTE_KEYSET_DEFAULTS.tenantsClaim;
    if (tenantsClaim === '') throw new RangeError('tenantsClaim must be a non-empty string');
    this.url = url.href;
    this.issuer = options.issuer;
    this.audience = options.audience;
    this.tenantsClaim = tenantsClaim;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#source = { noun: 'the JWK Set of the identity provider at', where: this.url, context: { url: this.url, issuer: this.issuer } };
    // Node replaces its bundled roots when given `ca`; the extra CA is trusted besides them.
    this.#ca = options.ca === undefined ? undefined : [...rootCertificates, options.ca.toString()];
    this.#intervalMs = positive(options.refreshIntervalSeconds ?? REMOTE_KEYSET_DEFAULTS.refreshIntervalSeconds, 'refreshIntervalSeconds') * 1000;
    this.#missMs = positive(options.missRefetchSeconds ?? REMOTE_KEYSET_DEFAULTS.missRefetchSeconds, 'missRefetchSeconds') * 1000;
    this.#timeoutMs = positive(options.timeoutMs ?? REMOTE_KEYSET_DEFAULTS.timeoutMs, 'timeoutMs');
    this.#maxBytes = positive(options.maxBytes ?? REMOTE_KEYSET_DEFAULTS.maxBytes, 'maxBytes');
  }

  /** Bumped whenever a fetch adds, removes or replaces a key (as {@link KeySet.generation}). */
  get generation(): number {
    return this.#held.generation;
  }

  /** When the set was last fetched successfully, epoch ms; undefined before the first success. */
  get lastReload(): number | undefined {
    return this.#held.lastReload;
  }

  /** Why the last fetch failed, or undefined when it succeeded. */
  get lastError(): StrataError | undefined {
    return this.#held.lastError;
  }

  /** Fetches that succeeded and failed. */
  get counts(): RemoteKeySetCounts {
    return { ok: this.#ok, failed: this.#failed };
  }

  /** The key with this kid, or undefined. */
  get(kid: string): ProviderKey | undefined {
    return this.#held.keys.get(kid)?.key;
  }

  /** The kids in force, in the provider's order. */
  kids(): string[] {
    return [...this.#held.keys.keys()];
  }

  /**
   * Fetch the set now; resolves true when the keys changed. A fetch already under way is joined,
   * not repeated. On failure the previous keys stay in force, the error is logged (warn) and kept in
   * {@link lastError}, and the promise rejects with `ERR_AUTH_KEYSET_INVALID`.
   */
  reload(): Promise<boolean> {
    this.#inflight ??= this.#reload().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /**
   * A token named a kid this set lacks: fetch again, unless a fetch for a miss started less than
   * `missRefetchSeconds` ago (then join the fetch under way, if any). Never rejects.
   */
  refetchForMiss(): Promise<void> {
    const swallow = (p: Promise<boolean>) => p.then(() => undefined, () => undefined);
    if (this.#inflight !== undefined) return swallow(this.#inflight);
    const now = this.#now();
    if (this.#lastMissFetch !== undefined && now - this.#lastMissFetch < this.#missMs) return Promise.resolve();
    this.#lastMissFetch = now;
    return swallow(this.reload());
  }

  /**
   * Fetch once and then every `refreshIntervalSeconds` (the timer does not keep the process alive).
   * Resolves after the first fetch, whatever its outcome: a provider that is down does not stop the
   * caller from starting, and is tried again on the interval.
   */
  async start(): Promise<void> {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.reload().catch(() => undefined), this.#intervalMs);
      this.#timer.unref();
    }
    await this.reload().catch(() => undefined);
  }

  /** Stop the interval. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #reload(): Promise<boolean> {
    let next: Map<string, HeldKey<ProviderKey>>;
    try {
      const text = await fetchText(this.url, { ca: this.#ca, timeoutMs: this.#timeoutMs, maxBytes: this.#maxBytes });
      next = await importJwkSet(text, { source: this.#source, logger: this.#logger, previous: this.#held.keys, make: key => this.#bind(key) });
    } catch (err) {
      const error = this.#held.failed(err, `cannot fetch the JWK Set at ${this.url}: ${err instanceof Error ? err.message : String(err)}`);
      this.#failed++;
      this.#logger.warn({ url: this.url, issuer: this.issuer, code: error.code, err: error.cause ?? error }, `${error.message}; the previous key set stays in force`);
      throw error;
    }
    this.#ok++;
    return this.#held.loaded(next, this.#now());
  }

  /** The provider's binding on a newly imported key. */
  #bind(key: VerificationKey): ProviderKey {
    return Object.freeze({ ...key, issuer: this.issuer, audience: this.audience, tenantsClaim: this.tenantsClaim });
  }
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number, got ${n}`);
  return n;
}

/** GET `url` over TLS and return the body as text; rejects on any status but 200, on timeout and past `maxBytes`. */
function fetchText(url: string, options: { ca: string[] | undefined; timeoutMs: number; maxBytes: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/jwk-set+json, application/json' },
        // A fresh connection each time: a fetch every few minutes gains nothing from keep-alive.
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      res => {
        // No redirects: the operator names the exact URL the keys are trusted from.
        if (res.statusCode !== 200) {
          res.resume();
          return fail(new Error(`the provider answered HTTP ${String(res.statusCode)}`));
        }
        const declared = Number(res.headers['content-length']);
        if (declared > options.maxBytes) return fail(new Error(`the answer is larger than ${options.maxBytes} bytes`));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) return fail(new Error(`the answer is larger than ${options.maxBytes} bytes`));
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(() => fail(new Error(`no complete answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      req.destroy();
      reject(err);
    }
    req.on('error', fail);
    req.end();
  });
}
