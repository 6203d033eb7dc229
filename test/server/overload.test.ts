import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { call, makeCertificates, startServer, type TestServer } from './harness.js';

/**
 * Graceful overload: past `max_in_flight_requests` a request is answered at once with 503
 * `ERR_SERVER_OVERLOADED` and `Retry-After`, before any work; the server recovers as soon as the
 * requests it holds finish.
 */
let certs: DevCertificates;
let removeCerts: () => Promise<void>;
let server: TestServer;

beforeAll(async () => {
  ({ good: certs, remove: removeCerts } = await makeCertificates());
  server = await startServer(certs, { knobs: { maxInFlightRequests: 1 } });
}, 60_000);
afterAll(async () => {
  await server.close();
  await removeCerts();
});

/** A request whose body is still arriving: it holds its place among the requests in flight. */
function slowRequest(): { finish: () => Promise<number>; abort: () => void } {
  let done: (status: number) => void = () => {};
  const finished = new Promise<number>(resolve => (done = resolve));
  const req = request(
    { host: '127.0.0.1', port: server.port, method: 'POST', path: '/healthz', servername: 'localhost', ca: readFileSync(certs.caCert), agent: false, headers: { 'content-type': 'application/json', 'content-length': '2' } },
    res => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    },
  );
  req.on('error', () => {}); // aborted on purpose
  req.write('{');
  return {
    abort: () => req.destroy(),
    finish: async () => {
      req.end('}');
      return finished;
    },
  };
}

it('answers 503 ERR_SERVER_OVERLOADED with Retry-After past the limit, and recovers', async () => {
  const held = slowRequest();
  await new Promise(resolve => setTimeout(resolve, 300)); // its headers are in: it counts
  const refused = await new Promise<{ status: number; retryAfter: string | undefined; body: { error: { code: string } } }>((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.port, path: '/healthz', servername: 'localhost', ca: readFileSync(certs.caCert), agent: false }, res => {
      let text = '';
      res.on('data', c => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(text) }));
    })
      .on('error', reject)
      .end();
  });
  expect(refused).toMatchObject({ status: 503, retryAfter: '1', body: { error: { code: 'ERR_SERVER_OVERLOADED' } } });
  expect(await held.finish()).toBe(404); // POST /healthz: no such route, but it was answered
  expect(await call(server.port, 'GET', '/healthz', { ca: certs.caCert })).toMatchObject({ status: 200 });
});

it('frees the place of a request whose client went away', async () => {
  const held = slowRequest();
  await new Promise(resolve => setTimeout(resolve, 300));
  expect(await call(server.port, 'GET', '/healthz', { ca: certs.caCert })).toMatchObject({ status: 503 });
  held.abort();
  await new Promise(resolve => setTimeout(resolve, 300));
  expect(await call(server.port, 'GET', '/healthz', { ca: certs.caCert })).toMatchObject({ status: 200 });
});
