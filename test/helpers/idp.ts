/** A stand-in identity provider for tests: a real HTTPS server answering its JWKS URL. */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DevCertificates } from '../../src/server/dev-certs.js';

/** How the provider answers: its JWK Set, or a custom handler (errors, huge or hanging answers). */
export type ProviderAnswer = { readonly keys: readonly unknown[] } | ((req: IncomingMessage, res: ServerResponse) => void);

export interface TestProvider {
  /** `https://127.0.0.1:PORT/.well-known/jwks.json`. */
  readonly url: string;
  /** Requests answered (or dropped) so far. */
  readonly requests: number;
  /** What the next requests get. */
  answer: ProviderAnswer;
  /** Stop listening: connections are refused (the provider is down). */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
}

/**
 * Start a provider with `certs`' server certificate (for 127.0.0.1). With `listening: false` it
 * starts down: its port is reserved and it refuses connections until {@link TestProvider.up}.
 */
export async function startProvider(certs: DevCertificates, answer: ProviderAnswer, options: { listening?: boolean } = {}): Promise<TestProvider> {
  let requests = 0;
  let server: Server | undefined;
  const make = () =>
    createServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) }, (req, res) => {
      requests++;
      const a = provider.answer;
      if (typeof a === 'function') return a(req, res);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(a));
    });
  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = make();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  const first = await listen(0);
  const port = (first.address() as AddressInfo).port;
  server = first;
  const provider: TestProvider = {
    url: `https://127.0.0.1:${port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    answer,
    async down() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise<void>(resolve => s.close(() => resolve()));
    },
    async up() {
      server ??= await listen(port);
    },
  };
  if (options.listening === false) await provider.down();
  return provider;
}

/** A JWK Set answer. */
export const jwks = (...keys: readonly unknown[]): ProviderAnswer => ({ keys });
