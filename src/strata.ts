import { KeySet, type KeySetLogger } from './auth/keyset.js';
import { authorizeTenant, openTenantScope, type Caller } from './auth/policy.js';
import { TokenVerifier, type TokenVerifierOptions } from './auth/token.js';
import { StrataError } from './errors.js';
import { openDatabase, type OpenOptions } from './kv/open.js';
import type { Database, TransactOptions } from './kv/types.js';
import type { TenantTransaction } from './tenancy/scoped.js';

/** Options of {@link openStrata}: where the data is, and the keys tokens are checked against. */
export type StrataOptions = OpenOptions & {
  /** A JWK Set file; needed to hand out tenant handles for tokens. */
  readonly authorizationPublicKeyFile?: string;
  /** Token rules, as the server's knobs (issuer, audience, clock skew, size, cache). */
  readonly token?: Omit<TokenVerifierOptions, 'checkSignature'>;
  /** Re-read the JWK Set file this often (default 300 s, as the server); 0 turns it off. */
  readonly keyRefreshIntervalSeconds?: number;
  readonly logger?: KeySetLogger;
};

/**
 * Who a tenant handle acts for: a caller holding `token` (checked as the server checks it; an
 * undefined token is a caller without one, refused unless it is trusted), or the service itself,
 * asked for explicitly so that a missing header can never become full access by accident.
 */
export type TenantCaller = { readonly token: string | undefined } | { readonly trusted: true };

/** A tenant handle: transactions confined to one tenant, under a token's rules when given one. */
export interface TenantHandle {
  readonly name: string;
  transact<T>(fn: (tx: TenantTransaction) => Promise<T>, options?: TransactOptions): Promise<T>;
}

/**
 * Strata in-process, for services: the database plus the server's tenant policy, without a network
 * hop (FoundationDB's `set_authorization_token`, as a library).
 *
 * @example
 * const strata = await openStrata({ dataDir: './data', authorizationPublicKeyFile: 'jwks.json' });
 * const acme = strata.tenant('acme', { token: requestToken });   // checked exactly as the server checks it
 * const admin = strata.tenant('acme', { trusted: true });         // the service itself
 * await acme.transact(async tx => tx.set(key, value));
 */
export class Strata {
  readonly db: Database;
  readonly #verifier: TokenVerifier | null;
  readonly #keys: KeySet | null;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(db: Database, keys: KeySet | null, verifier: TokenVerifier | null, now: () => number, refreshSeconds: number) {
    this.db = db;
    this.#keys = keys;
    this.#verifier = verifier;
    this.#now = now;
    if (keys !== null && refreshSeconds > 0) {
      // A bad file is logged by the key set and leaves the previous keys in force.
      this.#timer = setInterval(() => void keys.reload().catch(() => undefined), refreshSeconds * 1000);
      this.#timer.unref();
    }
  }

  /**
   * A handle on `name` for `caller`. For a token holder, every transaction first verifies the token
   * (cached), checks it lists the tenant and its access, and checks revocation and `value_exists`
   * inside the transaction, exactly as the server does.
   */
  tenant(name: string, caller: TenantCaller): TenantHandle {
    return {
      name,
      transact: async (fn, transactOptions) => {
        const resolved = await this.#caller(caller);
        authorizeTenant(resolved, name, false);
        return this.db.transact(async tx => fn(await openTenantScope(tx, resolved, name, this.#now())), transactOptions);
      },
    };
  }

  /** Re-read the JWK Set file (call it on a timer or SIGHUP, as the server does). */
  async reloadKeys(): Promise<void> {
    await this.#keys?.reload();
  }

  close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    return this.db.close();
  }

  async #caller(caller: TenantCaller): Promise<Caller> {
    if ('trusted' in caller) {
      if (caller.trusted !== true) throw new TypeError('a trusted tenant handle is asked for with { trusted: true }');
      return { trusted: true, token: undefined };
    }
    const { token } = caller;
    if (token === undefined || token === '') return { trusted: false, token: undefined };
    if (this.#verifier === null) {
      throw new StrataError('ERR_AUTH_TOKEN_INVALID', 'no authorizationPublicKeyFile was given, so no token can be checked');
    }
    return { trusted: false, token: await this.#verifier.verify(token) };
  }
}

/** Open Strata in-process. */
export async function openStrata(options: StrataOptions): Promise<Strata> {
  const now = options.token?.now ?? Date.now;
  const logger = options.logger ?? { warn: () => {}, error: () => {} };
  const keys = options.authorizationPublicKeyFile === undefined ? null : await KeySet.load(options.authorizationPublicKeyFile, { logger, now });
  const { authorizationPublicKeyFile: _file, token: _token, logger: _logger, keyRefreshIntervalSeconds: _refresh, ...open } = options;
  const db = await openDatabase(open as OpenOptions);
  return new Strata(db, keys, keys === null ? null : new TokenVerifier(keys, { ...options.token, now }), now, options.keyRefreshIntervalSeconds ?? 300);
}
