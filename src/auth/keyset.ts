import { readFile } from 'node:fs/promises';
import { StrataError } from '../errors.js';
import { importJwkSet, KeyHolder, type HeldKey, type JwkSetSource, type KeySetLogger, type VerificationKey } from './jwk-set.js';

// The key model moved to jwk-set.ts (shared with the identity providers' key sets); re-exported so
// existing imports keep working.
export { KEY_ALGORITHMS, MIN_RSA_BITS } from './jwk-set.js';
export type { KeyAlgorithm, KeySetLogger, VerificationKey } from './jwk-set.js';

/**
 * The public keys that tokens may be signed with: a JWK Set file (`--authorization-public-key-file`,
 * DESIGN §4). EC P-256 keys verify ES256 and RSA keys (2048 bits or more) RS256; each needs a `kid`,
 * which is how a token names its key. The file is re-read on demand (the server calls
 * {@link KeySet.reload} on its interval and on SIGHUP); a file that is not a valid JWK Set leaves
 * the previous keys in force, so a half-written or mistyped file never locks everyone out.
 */

/** Options of {@link KeySet.load}. */
export interface KeySetOptions {
  readonly logger: KeySetLogger;
  /** The clock for {@link KeySet.lastReload}, epoch ms (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * A JWK Set loaded from a file, looked up by `kid`.
 *
 * @example
 * const keys = await KeySet.load('jwks.json', { logger });
 * setInterval(() => keys.reload().catch(() => {}), 300_000); // failures are already logged
 */
export class KeySet {
  /** The file the keys come from. */
  readonly path: string;
  readonly #logger: KeySetLogger;
  readonly #now: () => number;
  readonly #source: JwkSetSource;
  // Each key with the fingerprint it was imported from, to reuse it while the file keeps it unchanged.
  readonly #held = new KeyHolder<VerificationKey>();
  // Reloads run one at a time (a SIGHUP may land during the interval's reload).
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, options: KeySetOptions) {
    this.path = path;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#source = { noun: 'the JWK Set file', where: path, context: { path } };
  }

  /**
   * Read the key set from `path`. Rejects with `ERR_AUTH_KEYSET_INVALID` when the file is not a
   * valid JWK Set: at start-up there is no previous set to fall back on.
   */
  static async load(path: string, options: KeySetOptions): Promise<KeySet> {
    const keySet = new KeySet(path, options);
    await keySet.reload();
    return keySet;
  }

  /**
   * Bumped whenever a reload adds, removes or replaces a key. Equal generations mean every key
   * looked up before is still the same key.
   */
  get generation(): number {
    return this.#held.generation;
  }

  /** When the file was last read successfully, epoch ms. */
  get lastReload(): number {
    return this.#held.lastReload ?? 0;
  }

  /** Why the last reload failed, or undefined when it succeeded (for status). */
  get lastError(): StrataError | undefined {
    return this.#held.lastError;
  }

  /** How many keys are in force. */
  get size(): number {
    return this.#held.keys.size;
  }

  /** The key with this kid, or undefined. */
  get(kid: string): VerificationKey | undefined {
    return this.#held.keys.get(kid)?.key;
  }

  /** The kids in force, in file order. */
  kids(): string[] {
    return [...this.#held.keys.keys()];
  }

  /**
   * Re-read the file; resolves true when the keys changed. A file that is unreadable, not JSON,
   * has no `keys` list, repeats a kid, or lists keys none of which is usable is invalid: the
   * previous keys stay in force, the error is logged and the promise rejects with
   * `ERR_AUTH_KEYSET_INVALID`. An empty `keys` list is valid and accepts no token: it is how an
   * operator withdraws every key on purpose.
   */
  reload(): Promise<boolean> {
    const run = this.#queue.then(() => this.#reload());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(): Promise<boolean> {
    let next: Map<string, HeldKey>;
    try {
      next = await this.#read();
    } catch (err) {
      const error = this.#held.failed(err, `cannot read the JWK Set file ${this.path}`);
      this.#logger.error({ path: this.path, code: error.code, err: error.cause ?? error }, `${error.message}; the previous key set stays in force`);
      throw error;
    }
    return this.#held.loaded(next, this.#now());
  }

  async #read(): Promise<Map<string, HeldKey>> {
    const text = await readFile(this.path, 'utf8');
    return importJwkSet(text, { source: this.#source, logger: this.#logger, previous: this.#held.keys, make: key => key });
  }
}
