import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { invalidArgument } from '../errors.js';

/**
 * Who is trusted (DESIGN §4): a caller whose TLS handshake presented a client certificate chain
 * that verifies against the configured CA and, when trusted subnets are configured, whose address
 * lies in one of them. Everyone else is untrusted and reaches only what a token grants.
 */

/** Trusted subnets by name (`--trusted-subnet-NAME=CIDR`), or none (any address may be trusted). */
export interface TrustedSubnets {
  readonly names: readonly string[];
  contains(address: string): boolean;
}

/** Parse `NAME=CIDR` pairs into a matcher. Throws ERR_CLI_INVALID_ARGUMENT on a malformed CIDR. */
export function parseTrustedSubnets(entries: ReadonlyArray<readonly [string, string]>): TrustedSubnets | null {
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const [name, cidr] of entries) {
    const [network, bits, extra] = cidr.split('/');
    const family = isIP(network ?? '');
    const prefix = Number(bits);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || bits === undefined || !/^\d+$/.test(bits) || prefix > max) {
      throw invalidArgument(`--trusted-subnet-${name}: ${JSON.stringify(cidr)} is not an IPv4 or IPv6 CIDR`);
    }
    list.addSubnet(network as string, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return {
    names: entries.map(([name]) => name),
    contains(address: string): boolean {
      const plain = unmapIpv4(address);
      const family = isIP(plain);
      return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/** `::ffff:10.1.2.3` (an IPv4 client on a dual-stack socket) is the IPv4 address 10.1.2.3. */
export function unmapIpv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? (m[1] as string) : address;
}

/** True when the socket's peer presented a certificate at all (verified or not). */
export function presentedCertificate(socket: TLSSocket): boolean {
  const cert = socket.getPeerCertificate();
  return cert !== null && typeof cert === 'object' && cert.raw !== undefined;
}

/**
 * Whether the caller on `socket` is trusted. Both conditions are required on this very socket:
 * `authorized` alone is not enough, because Node 20 reports `authorized === true` on a resumed
 * TLS 1.3 session that presented no client certificate.
 */
export function isTrusted(socket: TLSSocket | undefined, subnets: TrustedSubnets | null): boolean {
  if (socket === undefined || typeof socket.getPeerCertificate !== 'function') return false;
  if (socket.authorized !== true || !presentedCertificate(socket)) return false;
  return subnets === null || subnets.contains(socket.remoteAddress ?? '');
}
