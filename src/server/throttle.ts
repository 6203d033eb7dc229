/**
 * Addresses that presented a client certificate chain that does not verify, closed on sight for a
 * while (FoundationDB's TLS_SERVER_CONNECTION_THROTTLE_TIMEOUT, default 9 s).
 */
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
    this.#until.set(address, this.#now() + this.#ms);
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
