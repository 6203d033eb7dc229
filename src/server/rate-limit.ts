import { StrataError } from '../errors.js';

/**
 * Token buckets for read and write rates, per minute as Qdrant's strict mode counts them: a bucket
 * holds up to `perMinute` tokens and refills at `perMinute / 60` a second, and an operation takes
 * its cost (Qdrant's: 1 for a read plus its filter's conditions, the number of points for a write).
 *
 * Buckets live in this server's memory, as Qdrant's live in each replica: with N servers behind a
 * balancer a limit admits up to N times its rate. Usage quotas, which must be exact, are counters in
 * the store instead (layers/record/limits.ts).
 */

/** Buckets remembered at most; past it the least recently used are forgotten (they refill anyway). */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** What kind of operation a rate limits. */
export type RateKind = 'read' | 'write';

/** One family of buckets (per collection, per tenant or per subject). */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Take `cost` tokens from `key`'s bucket of `perMinute`, or throw `ERR_RATE_LIMITED` (429, with
   * the seconds to wait in `details.retryAfterSeconds`) and take nothing. `what` names the limit.
   */
  take(key: string, perMinute: number, cost: number, kind: RateKind, what: string): void {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: perMinute, at: now };
      if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.delete(this.#buckets.keys().next().value as string);
    } else {
      this.#buckets.delete(key); // re-inserted below: the map's order is recency
      bucket.tokens = Math.min(perMinute, bucket.tokens + ((now - bucket.at) * perMinute) / 60_000);
      bucket.at = now;
    }
    this.#buckets.set(key, bucket);
    const label = kind === 'read' ? 'Read' : 'Write';
    if (cost > perMinute) {
      throw new StrataError('ERR_RATE_LIMITED', `Rate limiting exceeded: ${label} rate limit exceeded, request larger than the rate limiter's capacity (${perMinute} per minute, ${what}): split the request`, {
        details: { limit: what, kind, perMinute, cost },
      });
    }
    if (bucket.tokens < cost) {
      const retryAfterSeconds = Math.max(1, Math.ceil(((cost - bucket.tokens) * 60) / perMinute));
      throw new StrataError(
        'ERR_RATE_LIMITED',
        `Rate limiting exceeded: ${label} rate limit exceeded: Operation requires ${cost} tokens but only ${bucket.tokens.toFixed(1)} were available. Retry after ${retryAfterSeconds}s`,
        { details: { limit: what, kind, perMinute, cost, retryAfterSeconds } },
      );
    }
    bucket.tokens -= cost;
  }

  /** Tokens `key`'s bucket of `perMinute` holds now (a full bucket when it has none), taking nothing. */
  available(key: string, perMinute: number): number {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return perMinute;
    return Math.min(perMinute, bucket.tokens + ((this.#now() - bucket.at) * perMinute) / 60_000);
  }

  /** How many buckets are remembered. */
  get size(): number {
    return this.#buckets.size;
  }
}
