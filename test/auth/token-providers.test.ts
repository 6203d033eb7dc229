import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/auth/key-ring.js';
import { KeySet } from '../../src/auth/keyset.js';
import { RemoteKeySet } from '../../src/auth/remote-keyset.js';
import { joseSignatureCheck, TokenVerifier, type SignatureCheck, type TokenKeys, type TokenVerifierOptions } from '../../src/auth/token.js';
import type { ErrorCode } from '../../src/errors.js';
import type { DevCertificates } from '../../src/server/dev-certs.js';
import { jwks, startProvider, type TestProvider } from '../helpers/idp.js';
import { b64, claims, makeKey, memoryLogger, sign, writeJwks, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { makeCertificates } from '../server/harness.js';

// Tokens from external identity providers (JWKS URLs) next to the local JWK Set file. The token's
// iss chooses the keys; a provider's key verifies only its own tokens (its iss, its aud, its tenants
// claim); rotation at the provider is picked up on the first token; outages keep the last keys.

const NOW_S = 1_700_000_000;
const ISS_A = 'https://a.example.com/';
const ISS_B = 'https://b.example.com/';
/** The knobs token_issuer and token_audience, which bind local tokens only. */
const LOCAL = { iss: 'strata-local', aud: 'local-aud' } as const;

let certs: DevCertificates;
let removeCerts: () => Promise<void>;
let dir: string;
let removeDir: () => Promise<void>;
/** The local key; A's keys (one under the local key's kid), A's next key; B's key. */
let local: TestKey;
let a1: TestKey;
let aLocalKid: TestKey;
let a2: TestKey;
let b1: TestKey;
let idpA: TestProvider;
let idpB: TestProvider;
let keySet: KeySet;
let setA: RemoteKeySet;
let setB: RemoteKeySet;
let ring: KeyRing;
let nowMs: number;
let checks: number;

beforeAll(async () => {
  ({ good: certs, remove: removeCerts } = await makeCertificates());
  ({ dir, remove: removeDir } = await tempDir('strata-token-providers'));
  [local, a1, aLocalKid, a2, b1] = await Promise.all([
    makeKey('ES256', 'local-1'),
    makeKey('ES256', 'a-1'),
    makeKey('ES256', 'local-1'),
    makeKey('RS256', 'a-2'),
    makeKey('ES256', 'b-1'),
  ]);
  await writeJwks(join(dir, 'jwks.json'), [local.publicJwk]);
  keySet = await KeySet.load(join(dir, 'jwks.json'), { logger: memoryLogger() });
  idpA = await startProvider(certs, jwks());
  idpB = await startProvider(certs, jwks());
});
afterAll(async () => {
  await idpA.down();
  await idpB.down();
  await removeCerts();
  await removeDir();
});

function remote(url: string, issuer: string, options: { audience?: string; tenantsClaim?: string } = {}): RemoteKeySet {
  return new RemoteKeySet({ url, issuer, audience: 'strata', ca: readFileSync(certs.caCert), logger: memoryLogger(), now: () => nowMs, ...options });
}

beforeEach(async () => {
  nowMs = NOW_S * 1000;
  checks = 0;
  idpA.answer = jwks(a1.publicJwk, aLocalKid.publicJwk);
  idpB.answer = jwks(b1.publicJwk);
  setA = remote(idpA.url, ISS_A);
  setB = remote(idpB.url, ISS_B, { audience: 'strata-b', tenantsClaim: 'org' });
  await Promise.all([setA.reload(), setB.reload()]);
  ring = new KeyRing({ local: [keySet], providers: [setA, setB] });
});
afterEach(async () => {
  await idpA.up();
  await idpB.up();
});

const counting: SignatureCheck = async (token, key) => {
  checks++;
  return joseSignatureCheck(token, key);
};

function verifier(options: TokenVerifierOptions = {}, keys: TokenKeys = ring): TokenVerifier {
  return new TokenVerifier(keys, { cacheSize: 0, now: () => nowMs, issuer: LOCAL.iss, audience: LOCAL.aud, checkSignature: counting, ...options });
}

/** Claims of a valid token from provider A (`aud` strata, base64 `tenants`). */
const fromA = (over: Record<string, unknown> = {}) => ({ ...claims(NOW_S), iss: ISS_A, aud: 'strata', ...over });
/** Claims of a valid token from provider B (`aud` strata-b, plain names in `org`). */
const fromB = (over: Record<string, unknown> = {}) => ({ iat: NOW_S, nbf: NOW_S, exp: NOW_S + 3600, iss: ISS_B, aud: 'strata-b', org: 'acme', ...over });
/** Claims of a valid local token. */
const fromLocal = (over: Record<string, unknown> = {}) => ({ ...claims(NOW_S), ...LOCAL, ...over });

/** Assert that `token` is refused with `code` for the reason `why`; fails when it verifies. */
async function refused(v: TokenVerifier, token: string, why: RegExp, code: ErrorCode = 'ERR_AUTH_TOKEN_INVALID'): Promise<void> {
  const err: unknown = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code });
  expect((err as Error).message).toMatch(why);
}

describe('a provider’s token', () => {
  it('verifies with the provider’s key and yields its tenants from base64 `tenants`', async () => {
    const v = await verifier().verify(await sign(a1, fromA({ ...claims(NOW_S, ['acme', 'Zürich ✓']), sub: 'ada@a', jti: 'j' })));
    expect(v).toMatchObject({ tenants: ['acme', 'Zürich ✓'], kid: 'a-1', iss: ISS_A, aud: ['strata'], sub: 'ada@a', jti: 'j' });
    // aud as a list that includes the audience.
    await expect(verifier().verify(await sign(a1, fromA({ aud: ['other', 'strata'] })))).resolves.toMatchObject({ kid: 'a-1' });
    // The default mapping is Strata's: plain names in `tenants` are refused.
    await refused(verifier(), await sign(a1, fromA({ tenants: ['acme corp'] })), /canonical standard base64/);
  });

  it('takes its tenants from the provider’s own claim as plain names, without `tenants`', async () => {
    const v = verifier();
    await expect(v.verify(await sign(b1, fromB()))).resolves.toMatchObject({ tenants: ['acme'], kid: 'b-1' });
    await expect(v.verify(await sign(b1, fromB({ org: ['acme', 'Zürich ✓', 'acme'] })))).resolves.toMatchObject({ tenants: ['acme', 'Zürich ✓'] });
    const uri = remote(idpB.url, 'https://uri.example.com/', { audience: 'strata-b', tenantsClaim: 'https://example.com/tenants' });
    await uri.reload();
    const uriRing = new KeyRing({ providers: [uri] });
    const token = await sign(b1, fromB({ iss: 'https://uri.example.com/', org: undefined, 'https://example.com/tenants': ['globex'] }));
    await expect(verifier({}, uriRing).verify(token)).resolves.toMatchObject({ tenants: ['globex'] });
  });

  it.each([
    ['missing (a base64 `tenants` does not stand in)', { org: undefined, tenants: [b64('acme')] }, /"org" claim/],
    ['an empty list', { org: [] }, /"org" claim/],
    ['an empty name', { org: '' }, /invalid tenant name/],
    ['a control character', { org: ['acme', 'a\u0000b'] }, /invalid tenant name/],
    ['a name over 255 bytes', { org: 'x'.repeat(256) }, /invalid tenant name/],
    ['not a string', { org: ['acme', 7] }, /must hold strings/],
    ['an object', { org: { name: 'acme' } }, /"org" claim/],
  ])('is refused when its tenants claim is %s', async (_what, over, why) => {
    await refused(verifier(), await sign(b1, fromB(over)), why);
  });

  it('is refused unless its iss is the provider’s, even when the key is handed over', async () => {
    // Through the ring, another iss never reaches A's keys.
    await refused(verifier(), await sign(a1, fromA({ iss: 'https://evil.example.com/' })), /no key/);
    await refused(verifier(), await sign(a1, fromA({ iss: 'https://a.example.com' })), /no key/);
    // Keys that ignore iss: the verifier's own check after the signature still refuses.
    const careless: TokenKeys = { generation: 1, get: kid => setA.get(kid) };
    await expect(verifier({}, careless).verify(await sign(a1, fromA()))).resolves.toBeDefined();
    await refused(verifier({}, careless), await sign(a1, fromA({ iss: 'https://evil.example.com/' })), /iss is not the issuer of the identity provider/);
    await refused(verifier({}, careless), await sign(a1, fromA({ iss: undefined })), /iss is not the issuer of the identity provider/);
  });

  it('is refused unless its aud includes the provider’s audience', async () => {
    await refused(verifier(), await sign(a1, fromA({ aud: 'other' })), /aud does not include the audience configured for its identity provider/);
    await refused(verifier(), await sign(a1, fromA({ aud: undefined })), /aud does not include/);
    // B's audience is B's: it does not open A.
    await refused(verifier(), await sign(a1, fromA({ aud: ['strata-b', LOCAL.aud] })), /aud does not include/);
  });

  it('is checked against the provider’s iss and aud, not the token_issuer and token_audience knobs (which bind local tokens)', async () => {
    await expect(verifier().verify(await sign(a1, fromA()))).resolves.toMatchObject({ iss: ISS_A });
    await expect(verifier().verify(await sign(local, fromLocal()))).resolves.toMatchObject({ kid: 'local-1', iss: LOCAL.iss });
    await refused(verifier(), await sign(local, fromLocal({ aud: 'strata' })), /configured audience/);
  });

  it('needs iat, as every token does', async () => {
    await refused(verifier(), await sign(a1, fromA({ iat: undefined })), /iat claim/);
  });
});

describe('keys are chosen by the token’s iss', () => {
  it('refuses a token whose iss names provider A but that provider B’s key signed', async () => {
    // B's kid: A has no such key.
    await refused(verifier(), await sign(b1, fromA()), /no key/);
    // A's kid, B's signature.
    await refused(verifier(), await sign({ ...b1, kid: 'a-1' }, fromA()), /signature does not verify/);
    // And the other way round, with B's claims throughout.
    await refused(verifier(), await sign(a1, fromB()), /no key/);
  });

  it('refuses a provider-signed token without iss: it is looked up in the local keys only', async () => {
    const before = idpA.requests;
    await refused(verifier(), await sign(a1, fromA({ iss: undefined })), /no key/);
    // Under the local key's kid, the local key is used, and the signature does not verify.
    await refused(verifier(), await sign(aLocalKid, fromA({ iss: undefined })), /signature does not verify/);
    await refused(verifier(), await sign(aLocalKid, fromLocal()), /signature does not verify/);
    // The provider was not asked for the missing kid.
    expect(idpA.requests).toBe(before);
  });

  it('never lets a provider’s kid shadow a local key, nor a local key verify a token naming the provider', async () => {
    expect(setA.get('local-1')).toBeDefined();
    await expect(verifier().verify(await sign(local, fromLocal()))).resolves.toMatchObject({ kid: 'local-1', tenants: ['acme'] });
    // A local key's signature under the provider's iss is checked with the provider's key.
    await refused(verifier(), await sign(local, fromA()), /signature does not verify/);
    // The provider's own token under that kid is the provider's to sign.
    await expect(verifier().verify(await sign(aLocalKid, fromA()))).resolves.toMatchObject({ kid: 'local-1', iss: ISS_A });
  });
});

describe('rotation and outages at the provider', () => {
  it('verifies a token signed with a key rotated in at the provider on its first try', async () => {
    idpA.answer = jwks(a1.publicJwk, a2.publicJwk);
    const before = idpA.requests;
    await expect(verifier().verify(await sign(a2, fromA()))).resolves.toMatchObject({ kid: 'a-2' });
    expect(idpA.requests).toBe(before + 1);
  });

  it('stops verifying cached tokens of a key removed at the provider after the next refresh', async () => {
    const v = verifier({ cacheSize: 100 });
    const token = await sign(a1, fromA());
    await v.verify(token);
    idpA.answer = jwks(a2.publicJwk);
    // Until the refresh the key is in force: a cache hit.
    await expect(v.verify(token)).resolves.toMatchObject({ kid: 'a-1' });
    expect(checks).toBe(1);
    await expect(setA.reload()).resolves.toBe(true);
    await refused(v, token, /no key/);
  });

  it('keeps a cached provider token a hit while other sources change (looked up under its iss)', async () => {
    const v = verifier({ cacheSize: 100 });
    const token = await sign(a1, fromA());
    await v.verify(token);
    idpB.answer = jwks(b1.publicJwk, a2.publicJwk);
    await expect(setB.reload()).resolves.toBe(true);
    await expect(v.verify(token)).resolves.toMatchObject({ kid: 'a-1' });
    expect(checks).toBe(1);
  });

  it('keeps verifying with the last good keys while the provider is down', async () => {
    await idpA.down();
    await expect(setA.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID' });
    await expect(verifier().verify(await sign(a1, fromA()))).resolves.toMatchObject({ kid: 'a-1' });
    idpA.answer = (_q, res) => void res.writeHead(200).end('not json');
    await idpA.up();
    await expect(setA.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID' });
    await expect(verifier().verify(await sign(a1, fromA()))).resolves.toMatchObject({ kid: 'a-1' });
  });

  it('starts with no keys for a provider that is down, and verifies its tokens once it answers', async () => {
    const late = await startProvider(certs, jwks(a1.publicJwk), { listening: false });
    try {
      const set = remote(late.url, 'https://late.example.com/');
      await set.start();
      set.stop();
      const v = verifier({}, new KeyRing({ local: [keySet], providers: [set] }));
      const token = await sign(a1, fromA({ iss: 'https://late.example.com/' }));
      await refused(v, token, /no key/);
      await late.up();
      // Within 30 s of the last miss, no refetch; past it, the miss fetches the keys.
      await refused(v, token, /no key/);
      nowMs += 30_000;
      await expect(v.verify(token)).resolves.toMatchObject({ kid: 'a-1' });
      expect(late.requests).toBe(1);
    } finally {
      await late.down();
    }
  });

  it('limits refetches for unknown kids to one per 30 s, and makes none for tokens of no provider', async () => {
    const before = idpA.requests;
    const beforeB = idpB.requests;
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) => sign({ ...a1, kid: `made-up-${i}` }, fromA())));
    for (const token of made) await refused(verifier(), token, /no key/);
    expect(idpA.requests).toBe(before + 1);
    nowMs += 29_000;
    await refused(verifier(), made[0] as string, /no key/);
    expect(idpA.requests).toBe(before + 1);
    nowMs += 1_000;
    await refused(verifier(), made[0] as string, /no key/);
    expect(idpA.requests).toBe(before + 2);
    // No provider's iss: nothing to refetch.
    nowMs += 60_000;
    await refused(verifier(), await sign({ ...a1, kid: 'made-up' }, fromA({ iss: 'https://nobody.example.com/' })), /no key/);
    await refused(verifier(), await sign({ ...a1, kid: 'made-up' }, fromLocal()), /no key/);
    expect([idpA.requests, idpB.requests]).toEqual([before + 2, beforeB]);
  });
});
