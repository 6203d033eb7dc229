import { isStrataError, StrataError, type ErrorCode } from '../errors.js';
import { RateLimiter } from './rate-limit.js';

/**
 * Failed API key and refresh token attempts, limited per client address and per key id so that
 * neither one address nor a botnet aimed at one key can guess its way in: past `perMinute` failures
 * (refilled continuously), every attempt from that address or at that key is refused with 429
 * `ERR_RATE_LIMITED` and `Retry-After` before its secret is even looked at. Successes cost nothing.
 */
export class AuthFailureThrottle {
  readonly #perMinute: number;
  readonly #limiter: RateLimiter;
  #refused = 0;

  constructor(perMinute: number, now: () => number = Date.now) {
    if (!Number.isSafeInteger(perMinute) || perMinute < 1) throw new RangeError(`perMinute must be a positive whole number, got ${perMinute}`);
    this.#perMinute = perMinute;
    this.#limiter = new RateLimiter(now);
  }

  /** Refuse an attempt from `address` (at key `keyId`, when it names one) while either has failed too often. */
  #check(address: string, keyId?: string): void {
    for (const bucket of this.#buckets(address, keyId)) {
      const left = this.#limiter.available(bucket, this.#perMinute);
      if (left < 1) {
        this.#refused++;
        const retryAfterSeconds = Math.max(1, Math.ceil(((1 - left) * 60) / this.#perMinute));
        throw new StrataError('ERR_RATE_LIMITED', `Rate limiting exceeded: too many failed credential attempts; retry after ${retryAfterSeconds}s`, {
          details: { limit: 'auth_failures_per_minute', retryAfterSeconds },
        });
      }
    }
  }

  /** Count a failed attempt against `address` and `keyId`. */
  #failed(address: string, keyId?: string): void {
    for (const bucket of this.#buckets(address, keyId)) {
      try {
        this.#limiter.take(bucket, this.#perMinute, 1, 'write', 'auth failures');
      } catch {
        // Already empty: the next check refuses.
      }
    }
  }

  /**
   * Run one credential attempt from `address` (at key `keyId`, when it names one): refused at once
   * while either has failed too often; a failure with one of `failures` (the codes that mean a wrong
   * credential) is counted against both, and rethrown.
   */
  async attempt<T>(address: string, keyId: string | undefined, failures: readonly ErrorCode[], run: () => Promise<T>): Promise<T> {
    this.#check(address, keyId);
    try {
      return await run();
    } catch (err) {
      if (isStrataError(err, ...failures)) this.#failed(address, keyId);
      throw err;
    }
  }

  /** Attempts refused so far (for metrics). */
  get refused(): number {
    return this.#refused;
  }

  #buckets(address: string, keyId: string | undefined): string[] {
    return keyId === undefined ? [`a\0${address}`] : [`a\0${address}`, `k\0${keyId}`];
  }
}
