import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { joseSignatureCheck, TokenVerifier, type SignatureCheck, type TokenVerifierOptions } from '../../src/auth/token.js';
import { claims, makeKey, memoryLogger, sign, writeJwks, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';

// The token cache: a hit skips the signature check, entries end at the token's exp, removing or
// replacing a key invalidates what it signed, and eviction is least-recently-used.

const NOW_S = 1_700_000_000;

let dir: string;
let remove: () => Promise<void>;
let jwks: string;
let a: TestKey;
let b: TestKey;
let keySet: KeySet;
let nowMs: number;
/** Signature checks performed, and whether the check may still succeed. */
let checks: number;
let checkWorks: boolean;

/**
 * A signature check that counts its calls and, once `checkWorks` is false, fails every time. A token
 * that still verifies after that was answered without any signature check.
 */
const countingCheck: SignatureCheck = async (token, key) => {
  checks++;
  if (!checkWorks) throw new Error('the signature check was called');
  return joseSignatureCheck(token, key);
};

function verifier(options: TokenVerifierOptions = {}): TokenVerifier {
  return new TokenVerifier(keySet, { now: () => nowMs, checkSignature: countingCheck, ...options });
}

beforeEach(async () => {
  ({ dir, remove } = await tempDir('strata-token-cache'));
  jwks = join(dir, 'jwks.json');
  [a, b] = await Promise.all([makeKey('ES256', 'a'), makeKey('ES256', 'b')]);
  await writeJwks(jwks, [a.publicJwk, b.publicJwk]);
  keySet = await KeySet.load(jwks, { logger: memoryLogger() });
  nowMs = NOW_S * 1000;
  checks = 0;
  checkWorks = true;
});
afterEach(async () => remove());

describe('the token cache', () => {
  it('answers a repeated token without a signature check', async () => {
    const v = verifier();
    const token = await sign(a, claims(NOW_S));
    const first = await v.verify(token);
    expect(checks).toBe(1);
    checkWorks = false;
    await expect(v.verify(token)).resolves.toBe(first);
    await expect(v.verify(token)).resolves.toBe(first);
    expect(checks).toBe(1);
    expect(v.stats()).toEqual({ size: 1, hits: 2, misses: 1, hitRate: 2 / 3 });
    // A different token (even with equal claims) is a miss and is checked.
    await expect(v.verify(await sign(a, { ...claims(NOW_S), jti: 'other' }))).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_INVALID' });
    expect(checks).toBe(2);
  });

  it('caches nothing with cacheSize 0', async () => {
    const v = verifier({ cacheSize: 0 });
    const token = await sign(a, claims(NOW_S));
    await v.verify(token);
    await v.verify(token);
    expect(checks).toBe(2);
    expect(v.stats()).toEqual({ size: 0, hits: 0, misses: 2, hitRate: 0 });
  });

  it('does not cache refused tokens', async () => {
    const v = verifier();
    const expired = await sign(a, { ...claims(NOW_S), exp: NOW_S - 1 });
    await expect(v.verify(expired)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_EXPIRED' });
    await expect(v.verify(expired)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_EXPIRED' });
    expect(checks).toBe(2);
    expect(v.stats().size).toBe(0);
  });

  it('ends an entry at the token’s exp (plus the skew)', async () => {
    const token = await sign(a, { ...claims(NOW_S), exp: NOW_S + 10 });
    const v = verifier();
    await v.verify(token);
    checkWorks = false;
    nowMs = (NOW_S + 10) * 1000 - 1;
    await expect(v.verify(token)).resolves.toBeDefined();
    nowMs = (NOW_S + 10) * 1000;
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_INVALID' }); // the check is broken: it was called
    checkWorks = true;
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_EXPIRED' });
    expect(v.stats().size).toBe(0);

    const skewed = verifier({ clockSkewSeconds: 5 });
    nowMs = NOW_S * 1000;
    await skewed.verify(token);
    checkWorks = false;
    nowMs = (NOW_S + 15) * 1000 - 1;
    await expect(skewed.verify(token)).resolves.toBeDefined();
    checkWorks = true;
    nowMs = (NOW_S + 15) * 1000;
    await expect(skewed.verify(token)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_EXPIRED' });
  });

  it('invalidates cached tokens whose key is removed from the file, and keeps the others', async () => {
    const v = verifier();
    const byA = await sign(a, claims(NOW_S));
    const byB = await sign(b, claims(NOW_S));
    await v.verify(byA);
    await v.verify(byB);
    await writeJwks(jwks, [b.publicJwk]);
    await expect(keySet.reload()).resolves.toBe(true);
    await expect(v.verify(byA)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_INVALID' });
    expect(checks).toBe(2); // refused at the kid lookup, before any signature check
    checkWorks = false;
    await expect(v.verify(byB)).resolves.toMatchObject({ kid: 'b' }); // b's key is the same key: still a hit
    expect(checks).toBe(2);
    expect(v.stats().size).toBe(1);
  });

  it('does not keep a token whose key was removed while its signature was being checked', async () => {
    const token = await sign(a, claims(NOW_S));
    const v = verifier({
      checkSignature: async (t, key) => {
        await writeJwks(jwks, [b.publicJwk]);
        await keySet.reload();
        return joseSignatureCheck(t, key);
      },
    });
    await v.verify(token); // it was valid when it arrived
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_INVALID' });
  });

  it('invalidates cached tokens whose kid now names a different key', async () => {
    const v = verifier();
    const token = await sign(a, claims(NOW_S));
    await v.verify(token);
    const replacement = await makeKey('ES256', 'a');
    await writeJwks(jwks, [replacement.publicJwk, b.publicJwk]);
    await expect(keySet.reload()).resolves.toBe(true);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_INVALID' });
    expect(checks).toBe(2);
    await expect(v.verify(await sign(replacement, claims(NOW_S)))).resolves.toMatchObject({ kid: 'a' });
  });

  it('keeps cached tokens across a reload that changes nothing, or a failed one', async () => {
    const v = verifier();
    const token = await sign(a, claims(NOW_S));
    await v.verify(token);
    await expect(keySet.reload()).resolves.toBe(false);
    await writeJwks(jwks, [{ kty: 'oct', k: 'c2VjcmV0', kid: 'x' }]); // invalid: no usable key
    await expect(keySet.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID' });
    checkWorks = false;
    await expect(v.verify(token)).resolves.toMatchObject({ kid: 'a' });
  });

  it('evicts the oldest token first, and keeps one used since half the cache filled after it', async () => {
    const v = verifier({ cacheSize: 4 });
    const [t1, t2, t3, t4, t5, t6] = (await Promise.all([1, 2, 3, 4, 5, 6].map(i => sign(a, { ...claims(NOW_S), jti: `t${i}` })))) as string[] as [string, string, string, string, string, string];
    for (const t of [t1, t2, t3, t4]) await v.verify(t);
    await v.verify(t1); // three tokens came after it: a use moves it to the young end
    await v.verify(t5); // so t2 is the oldest and goes
    expect(checks).toBe(5);
    expect(v.stats().size).toBe(4);
    await v.verify(t1);
    expect(checks).toBe(5);
    await v.verify(t2);
    expect(checks).toBe(6); // evicted: checked again, which evicts t3
    await v.verify(t6); // evicts t4
    for (const t of [t1, t5, t2, t6]) await v.verify(t);
    expect(checks).toBe(7);
    await v.verify(t3);
    expect(checks).toBe(8);
  });

  it('checks a token that reuses a cached token’s signature with another header or payload', async () => {
    const v = verifier();
    const good = await sign(a, claims(NOW_S, ['acme']));
    await v.verify(good);
    const [h, p, s] = good.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...claims(NOW_S, ['other']) })).toString('base64url');
    await expect(v.verify(`${h}.${forged}.${s}`)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_INVALID' });
    const otherHeader = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'b', typ: 'JWT' })).toString('base64url');
    await expect(v.verify(`${otherHeader}.${p}.${s}`)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_INVALID' });
    expect(checks).toBe(3);
    // The genuine token is still a hit.
    checkWorks = false;
    await expect(v.verify(good)).resolves.toMatchObject({ tenants: ['acme'] });
  });

  it('still refuses oversized and empty tokens before the cache', async () => {
    const v = verifier({ maxTokenBytes: 100 });
    await expect(v.verify('x'.repeat(101))).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_TOO_LARGE' });
    await expect(v.verify('')).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_MISSING' });
    expect(checks).toBe(0);
  });
});
