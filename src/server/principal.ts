import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { isTrusted, unmapIpv4, type TrustedSubnets } from '../auth/trust.js';
import type { VerifiedToken } from '../auth/claims.js';
import { apiKeyIdOf, looksLikeApiKey } from '../auth/apikeys.js';
import type { ApiKeyAuthenticator, ApiKeyBinding } from '../auth/apikey-auth.js';
import { StrataError } from '../errors.js';
import type { AuthFailureThrottle } from './auth-failures.js';

/** What the server needs of a verified token (or of an API key presented directly). */
export type TokenFacts = VerifiedToken & { readonly apiKey?: ApiKeyBinding };

/** API keys presented in place of a token: who checks them, and who limits failed attempts. */
export interface DirectApiKeys {
  readonly authenticator: ApiKeyAuthenticator;
  readonly failures: AuthFailureThrottle;
}

/** Verifies bearer tokens (src/auth/token.ts). */
export interface Verifier {
  verify(token: string): Promise<TokenFacts>;
}

/** Who is calling: set on every request by the authentication hook. */
export interface Principal {
  readonly trusted: boolean;
  readonly address: string;
  /** The verified token of an untrusted caller that presented one. */
  readonly token: TokenFacts | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/** The bearer token of a request: `Authorization: Bearer …` or Qdrant's `api-key` header. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  // The scheme is case-insensitive (RFC 9110 §11.1); compared without a regex, on every request.
  if (typeof auth === 'string' && auth.length >= 7 && auth.charCodeAt(6) === 0x20 && auth.slice(0, 6).toLowerCase() === 'bearer') {
    return auth.slice(7).trim();
  }
  const apiKey = request.headers['api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

/**
 * Establish the caller: trusted by mutual TLS (and subnet), or untrusted with whatever token it
 * presented, verified now. A trusted caller's token is ignored: it needs none.
 */
export async function resolvePrincipal(request: FastifyRequest, subnets: TrustedSubnets | null, verifier: Verifier | null, apiKeys?: DirectApiKeys): Promise<Principal> {
  const socket = request.raw.socket as TLSSocket | undefined;
  const address = unmapIpv4(request.raw.socket?.remoteAddress ?? request.ip);
  if (isTrusted(socket, subnets)) return { trusted: true, address, token: undefined };
  const token = presentedToken(request);
  if (token === undefined || token === '') return { trusted: false, address, token: undefined };
  // An API key in place of a token (Qdrant clients send it as api-key): looked up, not verified.
  if (looksLikeApiKey(token)) return { trusted: false, address, token: await authenticateDirectKey(token, address, apiKeys) };
  if (verifier === null) {
    throw new StrataError('ERR_AUTH_TOKEN_INVALID', 'this server has no public key file, so it accepts no tokens');
  }
  return { trusted: false, address, token: await verifier.verify(token) };
}

/** Refuse an untrusted caller on a trusted-only route. */
export function requireTrusted(principal: Principal): void {
  if (!principal.trusted) throw new StrataError('ERR_AUTH_TRUSTED_ONLY', 'this route is for trusted callers (mutual TLS) only');
}

/** Check an API key presented directly, counting a failure against its address and key id. */
async function authenticateDirectKey(key: string, address: string, apiKeys: DirectApiKeys | undefined): Promise<TokenFacts> {
  if (apiKeys === undefined) throw new StrataError('ERR_AUTH_APIKEY_INVALID', 'this server does not accept API keys');
  return apiKeys.failures.attempt(address, apiKeyIdOf(key), ['ERR_AUTH_APIKEY_INVALID'], () => apiKeys.authenticator.authenticate(key));
}
