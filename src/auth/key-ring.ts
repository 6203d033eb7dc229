import type { ProviderKey, VerificationKey } from './jwk-set.js';

/**
 * Every key a token may be verified with, by where it comes from (DESIGN §4): local sources (the
 * JWK Set file, Strata's own issuing keys) and external identity providers (their JWKS URLs).
 *
 * A token's `iss` (read before the signature is checked, only to choose where to look) decides the
 * source: when it is a provider's issuer, only that provider's keys are searched; otherwise only the
 * local sources, in order. So a token is never verified with the key of a provider its `iss` does
 * not name, a token without a provider's `iss` never with a provider's key, and a provider cannot
 * shadow a local key by publishing the same kid.
 */

/** A source of keys by kid: {@link KeySet}, or anything with a generation and a lookup. */
export interface KeySource {
  /** Changes whenever a key that `get` may return changes (see {@link KeySet.generation}). */
  readonly generation: number;
  get(kid: string): VerificationKey | undefined;
}

/** One identity provider's keys ({@link RemoteKeySet} has this). */
export interface ProviderSource {
  readonly issuer: string;
  readonly generation: number;
  get(kid: string): ProviderKey | undefined;
  /** Fetch the keys anew after a miss, rate limited by the provider; never rejects. */
  refetchForMiss(): Promise<void>;
}

/** The sources of a {@link KeyRing}. */
export interface KeyRingSources {
  /** Searched in order for tokens whose `iss` is no provider's. */
  readonly local?: readonly KeySource[];
  /** Each searched only for tokens whose `iss` is its issuer; issuers must differ. */
  readonly providers?: readonly ProviderSource[];
}

/**
 * Local key sources and identity providers behind the one lookup the token verifier uses.
 *
 * @example
 * const ring = new KeyRing({ local: [keySet], providers: [idp] });
 * const verifier = new TokenVerifier(ring, { audience: 'strata' });
 */
export class KeyRing {
  readonly #local: readonly KeySource[];
  readonly #providers: ReadonlyMap<string, ProviderSource>;

  /** Throws a RangeError when two providers have the same issuer. */
  constructor(sources: KeyRingSources) {
    this.#local = [...(sources.local ?? [])];
    const providers = new Map<string, ProviderSource>();
    for (const p of sources.providers ?? []) {
      if (providers.has(p.issuer)) throw new RangeError(`two identity providers have the issuer ${JSON.stringify(p.issuer)}`);
      providers.set(p.issuer, p);
    }
    this.#providers = providers;
  }

  /**
   * The sum of the sources' generations: each only grows, so the sum changes whenever any
   * source's keys change, and equal sums mean every key looked up before is still in force.
   */
  get generation(): number {
    let sum = 0;
    for (const s of this.#local) sum += s.generation;
    for (const p of this.#providers.values()) sum += p.generation;
    return sum;
  }

  /** The providers, for status. */
  get providers(): readonly ProviderSource[] {
    return [...this.#providers.values()];
  }

  /**
   * The key for a token's `kid`. `iss` is the token's unverified issuer: a provider's issuer
   * selects that provider alone; anything else (or none) the local sources, first match wins.
   */
  get(kid: string, iss?: string): VerificationKey | undefined {
    const provider = iss === undefined ? undefined : this.#providers.get(iss);
    if (provider !== undefined) return provider.get(kid);
    for (const source of this.#local) {
      const key = source.get(kid);
      if (key !== undefined) return key;
    }
    return undefined;
  }

  /**
   * After {@link get} missed: when `iss` names a provider, let it fetch its keys anew (it limits
   * how often) and resolve once that is done, so a key it just rotated in is found on a second
   * look. Local sources reload on their own schedule, so for them this resolves at once.
   */
  async refresh(_kid: string, iss?: string): Promise<void> {
    const provider = iss === undefined ? undefined : this.#providers.get(iss);
    await provider?.refetchForMiss();
  }
}
