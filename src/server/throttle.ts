/**
 * Addresses that presented a client certificate chain that does not verify, closed on sight for a
 * while (FoundationDB's TLS_SERVER_CONNECTION_THROTTLE_TIMEOUT, default 9 s).
 */
const PRUNE_AT = 1024;

export class BadCertificateThrottle {
  readonly #until = new Map<string, number>();
  readonly #ms: number;
  readonly #now: () => number;
  /** Connections closed because their address was throttled. */
  refused = 0;
  /** Handshakes that presented a chain that does not verify. */
  badCertificates = 0;

  constructor(seconds: number, now: () => number = Date.now) {
    this.#ms = seconds * 1000;
    this.#now = now;
  }

  block(address: string): void {
    this.badCertificates++;
    const now = this.#now();
    // Forget lapsed entries as new ones come, so a stream of bad handshakes cannot grow the map
    // beyond the addresses throttled at once.
    if (this.#until.size >= PRUNE_AT) for (const [a, until] of this.#until) if (until <= now) this.#until.delete(a);
    this.#until.set(address, now + this.#ms);
  }

  /** How many addresses are remembered (throttled now, or lapsed and not yet forgotten). */
  get size(): number {
    return this.#until.size;
  }

  /** True (and counted) when connections from `address` are refused now. */
  refuse(address: string): boolean {
    const until = this.#until.get(address);
    if (until === undefined) return false;
    if (until <= this.#now()) {
      this.#until.delete(address);
      return false;
    }
    this.refused++;
    return true;
  }

  /** Addresses throttled now, for the status route. */
  throttled(): Array<{ address: string; until: number }> {
    const now = this.#now();
    return [...this.#until].filter(([, until]) => until > now).map(([address, until]) => ({ address, until }));
  }
}
