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
  readonly logger?: KeySetLogger;
};

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
 * await acme.transact(async tx => tx.set(key, value));
 */
export class Strata {
  readonly db: Database;
  readonly #verifier: TokenVerifier | null;
  readonly #keys: KeySet | null;
  readonly #now: () => number;

  constructor(db: Database, keys: KeySet | null, verifier: TokenVerifier | null, now: () => number) {
    this.db = db;
    this.#keys = keys;
    this.#verifier = verifier;
    this.#now = now;
  }

  /**
   * A handle on `name`. With a token, every transaction first verifies it (cached), checks it lists
   * the tenant, and checks revocation and `value_exists` inside the transaction, as the server
   * does. Without one, the caller is trusted: it opened the database itself.
   */
  tenant(name: string, options: { token?: string } = {}): TenantHandle {
    const { token } = options;
    return {
      name,
      transact: async (fn, transactOptions) => {
        const caller = await this.#caller(token);
        authorizeTenant(caller, name, false);
        return this.db.transact(async tx => fn(await openTenantScope(tx, caller, name, this.#now())), transactOptions);
      },
    };
  }

  /** Re-read the JWK Set file (call it on a timer or SIGHUP, as the server does). */
  async reloadKeys(): Promise<void> {
    await this.#keys?.reload();
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async #caller(token: string | undefined): Promise<Caller> {
    if (token === undefined) return { trusted: true, token: undefined };
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
  const { authorizationPublicKeyFile: _file, token: _token, logger: _logger, ...open } = options;
  const db = await openDatabase(open as OpenOptions);
  return new Strata(db, keys, keys === null ? null : new TokenVerifier(keys, { ...options.token, now }), now);
}
