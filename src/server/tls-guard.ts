import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { presentedCertificate, unmapIpv4 } from '../auth/trust.js';
import type { BadCertificateThrottle } from './throttle.js';

/** What the guard reports. */
export interface TlsGuardLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/**
 * Close connections that must never reach HTTP, before the HTTPS server sees them:
 *  - from a throttled address, at once (before the TLS handshake);
 *  - whose client presented a certificate chain that does not verify: such a client is not
 *    downgraded to untrusted; its connection is closed and its address throttled.
 *
 * Both listeners are *prepended*: a listener added after the HTTPS server's own runs too late, as
 * the request may already have been parsed and handled by then.
 */
export function guardTls(server: HttpsServer, throttle: BadCertificateThrottle, log: TlsGuardLog): void {
  server.prependListener('connection', (socket: Socket) => {
    if (throttle.refuse(unmapIpv4(socket.remoteAddress ?? ''))) socket.destroy();
  });
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    if (socket.authorized || !presentedCertificate(socket)) return;
    const address = unmapIpv4(socket.remoteAddress ?? '');
    throttle.block(address);
    log.warn({ address, reason: socket.authorizationError?.toString() ?? 'unverified' }, 'closed a connection with a client certificate that does not verify');
    socket.destroy();
  });
}
