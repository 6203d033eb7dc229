import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RemoteKeySet, type RemoteKeySetOptions } from '../../src/auth/remote-keyset.js';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { jwks, startProvider, type ProviderAnswer, type TestProvider } from '../helpers/idp.js';
import { makeKey, memoryLogger, type TestKey } from '../helpers/jwt.js';
import { makeCertificates } from '../server/harness.js';

// One identity provider's key set, fetched from a real HTTPS server with a private CA. Failures of
// every kind must leave the last good keys in force; unknown kids refetch at most once per 30 s.

const ISSUER = 'https://idp.example.com/';

let good: DevCertificates;
let rogue: DevCertificates;
let removeCerts: () => Promise<void>;
let k1: TestKey;
let k2: TestKey;
let clock: number;
let logger: ReturnType<typeof memoryLogger>;
const open: Array<{ stop(): void } | TestProvider> = [];

beforeAll(async () => {
  ({ good, rogue, remove: removeCerts } = await makeCertificates());
  [k1, k2] = await Promise.all([makeKey('ES256', 'k1'), makeKey('RS256', 'k2')]);
});
afterAll(async () => {
  for (const o of open) 'stop' in o ? o.stop() : await o.down();
  await removeCerts();
});
beforeEach(() => {
  clock = 1_700_000_000_000;
  logger = memoryLogger();
});

async function provider(answer: ProviderAnswer, options: { listening?: boolean } = {}): Promise<TestProvider> {
  const p = await startProvider(good, answer, options);
  open.push(p);
  return p;
}

function keySet(url: string, options: Partial<RemoteKeySetOptions> = {}): RemoteKeySet {
  const set = new RemoteKeySet({ url, issuer: ISSUER, audience: 'strata', ca: readFileSync(good.caCert), logger, now: () => clock, ...options });
  open.push(set);
  return set;
}

describe('RemoteKeySet', () => {
  it('refuses a URL that is not https: (and other bad options) at construction', () => {
    const base = { issuer: ISSUER, audience: 'strata', logger };
    expect(() => new RemoteKeySet({ ...base, url: 'http://idp.example.com/jwks.json' })).toThrow(RangeError);
    expect(() => new RemoteKeySet({ ...base, url: 'file:///etc/jwks.json' })).toThrow(RangeError);
    expect(() => new RemoteKeySet({ ...base, url: 'https://user:secret@idp.example.com/jwks.json' })).toThrow(RangeError);
    expect(() => new RemoteKeySet({ ...base, url: 'not a url' })).toThrow(TypeError);
    expect(() => new RemoteKeySet({ ...base, url: 'https://idp.example.com/', issuer: '' })).toThrow(RangeError);
    expect(() => new RemoteKeySet({ ...base, url: 'https://idp.example.com/', audience: '' })).toThrow(RangeError);
    expect(() => new RemoteKeySet({ ...base, url: 'https://idp.example.com/', tenantsClaim: '' })).toThrow(RangeError);
    expect(() => new RemoteKeySet({ ...base, url: 'https://idp.example.com/' })).not.toThrow();
  });

  it('fetches the keys and binds each to the provider’s issuer, audience and tenants claim', async () => {
    const idp = await provider(jwks(k1.publicJwk, k2.publicJwk));
    const set = keySet(idp.url, { tenantsClaim: 'org' });
    await expect(set.reload()).resolves.toBe(true);
    expect(set.kids()).toEqual(['k1', 'k2']);
    expect(set.get('k1')).toMatchObject({ kid: 'k1', alg: 'ES256', issuer: ISSUER, audience: 'strata', tenantsClaim: 'org' });
    expect(set.get('k2')).toMatchObject({ alg: 'RS256', tenantsClaim: 'org' });
    expect(Object.isFrozen(set.get('k1'))).toBe(true);
    expect(set.generation).toBe(1);
    expect(set.lastReload).toBe(clock);
    expect(set.lastError).toBeUndefined();
    expect(set.counts).toEqual({ ok: 1, failed: 0 });
    expect(keySet(idp.url).tenantsClaim).toBe('tenants');
  });

  it('applies the JWK Set file’s rules to each key (shared code): private members dropped, unusable keys skipped', async () => {
    const { kid: _k, ...kidless } = k2.publicJwk;
    const idp = await provider(jwks(k1.privateJwk, kidless, { ...k2.publicJwk, use: 'enc' }));
    const set = keySet(idp.url);
    await set.reload();
    expect(set.kids()).toEqual(['k1']);
    expect(set.get('k1')?.jwk).not.toHaveProperty('d');
    const warnings = logger.lines.filter(l => l.level === 'warn');
    expect(warnings.map(w => w.msg)).toEqual([
      expect.stringMatching(/private key material/),
      expect.stringMatching(/no kid/),
      expect.stringMatching(/use is "enc"/),
    ]);
    for (const w of warnings) expect(w.obj).toMatchObject({ url: idp.url, issuer: ISSUER });
    idp.answer = jwks(k1.publicJwk, { ...k2.publicJwk, kid: 'k1' });
    await expect(set.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID', message: expect.stringMatching(/kid "k1" twice/) });
  });

  it('bumps the generation only when the keys change, and keeps unchanged keys as the same objects', async () => {
    const idp = await provider(jwks(k1.publicJwk));
    const set = keySet(idp.url);
    await set.reload();
    const first = set.get('k1');
    await expect(set.reload()).resolves.toBe(false);
    expect(set.generation).toBe(1);
    expect(set.get('k1')).toBe(first);
    idp.answer = jwks(k1.publicJwk, k2.publicJwk);
    await expect(set.reload()).resolves.toBe(true);
    expect(set.generation).toBe(2);
    expect(set.get('k1')).toBe(first);
    idp.answer = jwks(k2.publicJwk);
    await set.reload();
    expect(set.generation).toBe(3);
    expect(set.get('k1')).toBeUndefined();
  });

  it('trusts the extra CA, and only a certificate that chains to it or to a public root', async () => {
    const idp = await provider(jwks(k1.publicJwk));
    // Without the provider's private CA the handshake fails.
    const noCa = new RemoteKeySet({ url: idp.url, issuer: ISSUER, audience: 'strata', logger, now: () => clock });
    await expect(noCa.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID', message: expect.stringMatching(/cannot fetch/) });
    expect(noCa.kids()).toEqual([]);
    // Another CA is no help either.
    const wrongCa = keySet(idp.url, { ca: readFileSync(rogue.caCert) });
    await expect(wrongCa.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID' });
    expect(wrongCa.kids()).toEqual([]);
    await expect(keySet(idp.url).reload()).resolves.toBe(true);
  });

  it('keeps the last good keys when an answer is bad: HTTP error, not JSON, no keys list, too large, or too slow', async () => {
    const idp = await provider(jwks(k1.publicJwk));
    const set = keySet(idp.url, { maxBytes: 4096, timeoutMs: 300 });
    await set.reload();
    const key = set.get('k1');
    const big = JSON.stringify({ keys: [k1.publicJwk], padding: 'x'.repeat(5000) });
    const bad: Array<[string, ProviderAnswer, RegExp]> = [
      ['HTTP 500', (_q, res) => void res.writeHead(500).end('{"keys":[]}'), /HTTP 500/],
      ['a redirect', (_q, res) => void res.writeHead(302, { location: idp.url }).end(), /HTTP 302/],
      ['not JSON', (_q, res) => void res.writeHead(200).end('<html>maintenance</html>'), /is not JSON/],
      ['no keys list', (_q, res) => void res.writeHead(200).end('{"keys":{}}'), /no "keys" list/],
      // Refused on the header alone: the body never comes (it would time out otherwise).
      ['too large, declared', (_q, res) => void res.writeHead(200, { 'content-length': String(big.length) }).write(big.slice(0, 10)), /larger than 4096 bytes/],
      [
        'too large, streamed',
        (_q, res) => {
          res.writeHead(200);
          res.write(big.slice(0, 3000));
          setTimeout(() => res.end(big.slice(3000)), 10);
        },
        /larger than 4096 bytes/,
      ],
      ['too slow', () => undefined, /within 300 ms/],
    ];
    for (const [what, answer, why] of bad) {
      idp.answer = answer;
      logger.lines.length = 0;
      await expect(set.reload(), what).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID', message: expect.stringMatching(why) });
      expect(set.get('k1'), what).toBe(key);
      expect(set.generation, what).toBe(1);
      expect(set.lastError?.message, what).toMatch(why);
      expect(logger.lines.filter(l => l.level === 'warn'), what).toHaveLength(1);
    }
    expect(set.counts).toEqual({ ok: 1, failed: bad.length });
    // An answer just under the limit is fine.
    idp.answer = (_q, res) => void res.writeHead(200).end(JSON.stringify({ keys: [k1.publicJwk, k2.publicJwk], padding: 'x'.repeat(1000) }));
    await expect(set.reload()).resolves.toBe(true);
    expect(set.lastError).toBeUndefined();
  });

  it('keeps the last good keys while the provider is down, and reports it', async () => {
    const idp = await provider(jwks(k1.publicJwk));
    const set = keySet(idp.url);
    await set.reload();
    const reloadedAt = set.lastReload;
    await idp.down();
    clock += 60_000;
    await expect(set.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID' });
    expect(set.kids()).toEqual(['k1']);
    expect(set.lastReload).toBe(reloadedAt);
    expect(set.lastError?.message).toMatch(/cannot fetch the JWK Set at https:\/\/127\.0\.0\.1/);
    await idp.up();
    await expect(set.reload()).resolves.toBe(false);
    expect(set.lastError).toBeUndefined();
    expect(set.lastReload).toBe(clock);
  });

  it('starts with no keys when the provider is down, without failing, and picks them up on its interval', async () => {
    const idp = await provider(jwks(k1.publicJwk), { listening: false });
    const set = keySet(idp.url, { refreshIntervalSeconds: 0.05 });
    await expect(set.start()).resolves.toBeUndefined();
    expect(set.kids()).toEqual([]);
    expect(set.lastError?.code).toBe('ERR_AUTH_KEYSET_INVALID');
    expect(logger.lines[0]).toMatchObject({ level: 'warn', msg: expect.stringMatching(/ECONNREFUSED.*previous key set stays in force/) });
    await idp.up();
    await vi.waitFor(() => expect(set.kids()).toEqual(['k1']), { timeout: 10_000, interval: 20 });
    set.stop();
  });

  it('refetches for an unknown kid at once, but at most once per 30 s, joining a fetch under way', async () => {
    const idp = await provider(jwks(k1.publicJwk));
    const set = keySet(idp.url);
    await set.reload();
    expect(idp.requests).toBe(1);
    // Rotation: the provider adds a key; the first miss fetches it.
    idp.answer = jwks(k1.publicJwk, k2.publicJwk);
    await set.refetchForMiss();
    expect(idp.requests).toBe(2);
    expect(set.get('k2')).toBeDefined();
    // More misses within 30 s (made-up kids) do not reach the provider.
    for (let i = 0; i < 20; i++) await set.refetchForMiss();
    clock += 29_999;
    await Promise.all(Array.from({ length: 20 }, () => set.refetchForMiss()));
    expect(idp.requests).toBe(2);
    clock += 1;
    // Concurrent misses share one fetch, and each resolves once it is done.
    idp.answer = jwks(k1.publicJwk, k2.publicJwk, { ...k1.publicJwk, kid: 'k3' });
    const seen = await Promise.all(Array.from({ length: 20 }, () => set.refetchForMiss().then(() => set.get('k3')?.kid)));
    expect(seen).toEqual(Array.from({ length: 20 }, () => 'k3'));
    expect(idp.requests).toBe(3);
    idp.answer = jwks(k1.publicJwk, k2.publicJwk);
    // A miss fetch that fails is limited too, and never rejects.
    await idp.down();
    clock += 30_000;
    await expect(set.refetchForMiss()).resolves.toBeUndefined();
    await set.refetchForMiss();
    expect(set.counts.failed).toBe(1);
    expect(set.kids()).toEqual(['k1', 'k2', 'k3']);
    // A reload (the interval's) is not limited.
    await idp.up();
    await set.reload();
    await set.reload();
    expect(idp.requests).toBe(5);
    // Overlapping reloads (a SIGHUP during the interval's) share one fetch.
    await Promise.all([set.reload(), set.reload(), set.refetchForMiss()]);
    expect(idp.requests).toBe(6);
    expect(set.kids()).toEqual(['k1', 'k2']);
  });
});
