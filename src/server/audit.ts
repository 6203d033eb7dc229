/**
 * FoundationDB's audit rule: an accepted token is logged once per (address, tenant, jti) per
 * window, so a busy client does not flood the log but every new use is visible.
 */
export class AuditLog {
  readonly #last = new Map<string, number>();
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(windowMs: number, now: () => number) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** True when this use should be logged (and remembers it). */
  shouldLog(address: string, tenant: string, jti: string | undefined): boolean {
    const key = `${address}\u0000${tenant}\u0000${jti ?? ''}`;
    const now = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#windowMs) return false;
    if (this.#last.size > 100_000) this.#forgetOlderThan(now - this.#windowMs);
    this.#last.set(key, now);
    return true;
  }

  #forgetOlderThan(cutoff: number): void {
    for (const [key, at] of this.#last) if (at < cutoff) this.#last.delete(key);
  }
}
