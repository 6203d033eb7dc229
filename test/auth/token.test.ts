import { createHmac, createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier, type TokenVerifierOptions } from '../../src/auth/token.js';
import type { ErrorCode } from '../../src/errors.js';
import { b64, claims, craft, makeKey, memoryLogger, sign, writeJwks, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';

// Every rule of DESIGN §4 and an adversarial token for each way around it. The cache has its own
// file (token-cache.test.ts); here it is off, so every verify runs the full check.

const NOW_S = 1_700_000_000;
const NOW_MS = NOW_S * 1000;

let dir: string;
let remove: () => Promise<void>;
let ec: TestKey;
let rsa: TestKey;
let keySet: KeySet;

beforeAll(async () => {
  ({ dir, remove } = await tempDir('strata-token'));
  [ec, rsa] = await Promise.all([makeKey('ES256', 'ec-1'), makeKey('RS256', 'rsa-1')]);
  await writeJwks(join(dir, 'jwks.json'), [ec.publicJwk, rsa.publicJwk]);
  keySet = await KeySet.load(join(dir, 'jwks.json'), { logger: memoryLogger() });
});
afterAll(async () => remove());

function verifier(options: TokenVerifierOptions = {}): TokenVerifier {
  return new TokenVerifier(keySet, { cacheSize: 0, now: () => NOW_MS, ...options });
}

/**
 * Assert that `token` is refused with `code` (and, where given, for the reason `why` matches, so a
 * test cannot pass because some other check happened to fire), and that the error does not carry
 * the token.
 */
async function refused(token: string, code: ErrorCode, options: TokenVerifierOptions = {}, why?: RegExp): Promise<void> {
  const err: unknown = await verifier(options).verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  // Fails when the promise resolved (err is then undefined).
  expect(err).toMatchObject({ code });
  if (why !== undefined) expect((err as Error).message).toMatch(why);
  if (token.length > 16) {
    expect(String((err as Error).message)).not.toContain(token);
    expect(JSON.stringify((err as { details?: unknown }).details ?? {})).not.toContain(token);
  }
}

describe('a valid token', () => {
  it.each(['ES256', 'RS256'] as const)('verifies with %s and yields frozen, decoded claims', async alg => {
    const key = alg === 'ES256' ? ec : rsa;
    const token = await sign(key, { ...claims(NOW_S, ['acme', 'Zürich ✓']), jti: 'j-1', sub: 'ada', iss: 'me', aud: 'svc' });
    const v = await verifier().verify(token);
    expect(v).toEqual({
      tenants: ['acme', 'Zürich ✓'],
      exp: NOW_S + 3600,
      nbf: NOW_S,
      iat: NOW_S,
      kid: key.kid,
      jti: 'j-1',
      sub: 'ada',
      iss: 'me',
      aud: ['svc'],
    });
    expect(Object.isFrozen(v)).toBe(true);
    expect(Object.isFrozen(v.tenants)).toBe(true);
  });

  it('passes the access and value_exists extensions through, frozen', async () => {
    const access = [{ collection: 'docs*', access: 'prw', payload: { owner: 'ada', level: 3, public: false } }, { collection: 'logs', access: 'r' }];
    const valueExists = { collection: 'users', matches: [{ key: 'status', value: 'active' }] };
    const v = await verifier().verify(await sign(ec, { ...claims(NOW_S), access, value_exists: valueExists }));
    expect(v.access).toEqual(access);
    expect(v.valueExists).toEqual({ kind: 'points', ...valueExists });
    expect(Object.isFrozen(v.access)).toBe(true);
    const items = v.access as readonly { payload?: object }[];
    expect(Object.isFrozen(items[0])).toBe(true);
    expect(Object.isFrozen(items[0]?.payload)).toBe(true);
    const kv = { key: b64('user/42/status'), value: b64('active'), tenant: b64('globex') };
    const w = await verifier().verify(await sign(ec, { ...claims(NOW_S, ['acme', 'globex']), access: 'r', value_exists: kv }));
    expect(w.access).toBe('r');
    expect(w.valueExists).toEqual({ kind: 'kv', key: kv.key, value: kv.value, tenant: 'globex' });
    expect((await verifier().verify(await sign(ec, { ...claims(NOW_S), access: 'm' }))).access).toBe('m');
  });

  it('drops repeated tenants and keeps a "__proto__" payload field as a plain field', async () => {
    const payload = `{"tenants":["${b64('a')}","${b64('a')}"],"iat":${NOW_S},"nbf":${NOW_S},"exp":${NOW_S + 60},` +
      `"access":[{"collection":"c","access":"r","payload":{"__proto__":"x"}}]}`;
    const v = await verifier().verify(await sign(ec, payload));
    expect(v.tenants).toEqual(['a']);
    const scope = (v.access as readonly { payload?: Record<string, unknown> }[])[0]?.payload;
    expect(Object.getPrototypeOf(scope)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(scope, '__proto__')?.value).toBe('x');
  });
});

describe('refused headers and algorithms', () => {
  it('refuses alg none, signed or not', async () => {
    await refused(craft({ alg: 'none', typ: 'JWT', kid: 'ec-1' }, claims(NOW_S)), 'ERR_AUTH_TOKEN_INVALID');
    await refused(craft({ alg: 'none', typ: 'JWT', kid: 'ec-1' }, claims(NOW_S), 'AAAA'), 'ERR_AUTH_TOKEN_INVALID', {}, /alg must be/);
    await refused(craft({ alg: 'NONE', typ: 'JWT', kid: 'ec-1' }, claims(NOW_S), 'AAAA'), 'ERR_AUTH_TOKEN_INVALID');
  });

  it('refuses HS256 signed with the public key (JWK, PEM or DER) as the HMAC secret', async () => {
    for (const key of [ec, rsa]) {
      const pub = createPublicKey({ key: key.publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      const secrets = [JSON.stringify(key.publicJwk), pub.export({ type: 'spki', format: 'pem' }), pub.export({ type: 'spki', format: 'der' })];
      for (const secret of secrets) {
        const unsigned = craft({ alg: 'HS256', typ: 'JWT', kid: key.kid }, claims(NOW_S)).slice(0, -1);
        const mac = createHmac('sha256', secret).update(unsigned).digest('base64url');
        await refused(`${unsigned}.${mac}`, 'ERR_AUTH_TOKEN_INVALID', {}, /alg must be ES256 or RS256/);
      }
    }
  });

  it.each(['HS384', 'PS256', 'ES384', 'RS512', 'EdDSA', 'es256'])('refuses alg %s', async alg => {
    await refused(craft({ alg, typ: 'JWT', kid: 'ec-1' }, claims(NOW_S), 'AAAA'), 'ERR_AUTH_TOKEN_INVALID');
  });

  it('refuses a token whose alg is not its key’s (RS256 on an EC kid and ES256 on an RSA kid)', async () => {
    // Each is validly signed with a key of the type its alg names, but its kid names the other key.
    await refused(await sign(rsa, claims(NOW_S), { kid: 'ec-1' }), 'ERR_AUTH_TOKEN_INVALID', {}, /RS256 is not its key’s \(ES256\)/);
    await refused(await sign(ec, claims(NOW_S), { kid: 'rsa-1' }), 'ERR_AUTH_TOKEN_INVALID', {}, /ES256 is not its key’s \(RS256\)/);
  });

  it('refuses a missing, empty, unknown or non-string kid', async () => {
    await refused(await sign(ec, claims(NOW_S), { kid: undefined }), 'ERR_AUTH_TOKEN_INVALID', {}, /name its key in kid/);
    await refused(await sign(ec, claims(NOW_S), { kid: '' }), 'ERR_AUTH_TOKEN_INVALID', {}, /name its key in kid/);
    await refused(await sign(ec, claims(NOW_S), { kid: 'ec-2' }), 'ERR_AUTH_TOKEN_INVALID', {}, /no key in the key set has kid "ec-2"/);
    await refused(await sign(ec, claims(NOW_S), { kid: 1 }), 'ERR_AUTH_TOKEN_INVALID', {}, /name its key in kid/);
  });

  it('refuses a missing typ or one other than JWT', async () => {
    await refused(await sign(ec, claims(NOW_S), { typ: undefined }), 'ERR_AUTH_TOKEN_INVALID', {}, /typ/);
    for (const typ of ['JOSE', 'jwt', 'at+jwt', 1]) await refused(await sign(ec, claims(NOW_S), { typ }), 'ERR_AUTH_TOKEN_INVALID', {}, /typ/);
  });

  it('refuses critical header extensions and an unencoded payload (b64)', async () => {
    await refused(await sign(ec, claims(NOW_S), { crit: ['exp'], exp: 1 }), 'ERR_AUTH_TOKEN_INVALID', {}, /crit or b64/);
    await refused(await sign(ec, claims(NOW_S), { b64: true }), 'ERR_AUTH_TOKEN_INVALID', {}, /crit or b64/);
  });

  it('takes the key from the key set only: an embedded jwk header is ignored', async () => {
    const rogue = await makeKey('ES256', 'ec-1');
    await refused(await sign(rogue, claims(NOW_S), { jwk: rogue.publicJwk }), 'ERR_AUTH_TOKEN_INVALID', {}, /signature/);
  });
});

describe('refused signatures and malformed tokens', () => {
  it('refuses a tampered payload', async () => {
    const [h, , s] = (await sign(ec, claims(NOW_S, ['acme']))).split('.');
    const forged = Buffer.from(JSON.stringify(claims(NOW_S, ['globex']))).toString('base64url');
    await refused(`${h}.${forged}.${s}`, 'ERR_AUTH_TOKEN_INVALID', {}, /signature/);
  });

  it('refuses a stripped, truncated or altered signature', async () => {
    for (const key of [ec, rsa]) {
      const token = await sign(key, claims(NOW_S));
      const [h, p, s = ''] = token.split('.');
      await refused(`${h}.${p}.`, 'ERR_AUTH_TOKEN_INVALID');
      await refused(`${h}.${p}`, 'ERR_AUTH_TOKEN_INVALID');
      await refused(`${h}.${p}.${s.slice(0, -4)}`, 'ERR_AUTH_TOKEN_INVALID', {}, /signature/);
      await refused(`${h}.${p}.${s.slice(0, s.length / 2)}`, 'ERR_AUTH_TOKEN_INVALID', {}, /signature/);
      await refused(`${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`, 'ERR_AUTH_TOKEN_INVALID', {}, /signature/);
    }
  });

  it('refuses garbage, non-JSON segments and the wrong number of segments', async () => {
    const good = await sign(ec, claims(NOW_S));
    const [h, p, s] = good.split('.');
    for (const token of ['garbage', 'a.b', 'a.b.c', `${good}.${s}`, `${h}.${p}.${s}.`, '...', `${h}..${s}`, '!!!.@@@.###', `${h} .${p}.${s}`]) {
      await refused(token, 'ERR_AUTH_TOKEN_INVALID');
    }
    await refused(craft('not json', claims(NOW_S), s), 'ERR_AUTH_TOKEN_INVALID');
    await refused(craft([1, 2], claims(NOW_S), s), 'ERR_AUTH_TOKEN_INVALID');
    await refused(craft('null', claims(NOW_S), s), 'ERR_AUTH_TOKEN_INVALID');
    // Validly signed payloads that are not a JSON object.
    for (const payload of ['not json', '[1,2]', '"text"', 'null', '']) await refused(await sign(ec, payload), 'ERR_AUTH_TOKEN_INVALID');
  });

  it('reports an empty token as missing', async () => {
    await refused('', 'ERR_AUTH_TOKEN_MISSING');
    await expect(verifier().verify(undefined as unknown as string)).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_MISSING' });
  });

  it('refuses an oversized token before reading it, counting bytes not characters', async () => {
    await refused('x'.repeat(8193), 'ERR_AUTH_TOKEN_TOO_LARGE');
    await refused('é'.repeat(4097), 'ERR_AUTH_TOKEN_TOO_LARGE'); // 8194 bytes of UTF-8
    const good = await sign(ec, claims(NOW_S));
    await expect(verifier({ maxTokenBytes: good.length }).verify(good)).resolves.toMatchObject({ kid: 'ec-1' });
    await refused(good, 'ERR_AUTH_TOKEN_TOO_LARGE', { maxTokenBytes: good.length - 1 });
    // A valid token padded past the limit with a large claim is refused the same way.
    await refused(await sign(ec, { ...claims(NOW_S), pad: 'p'.repeat(9000) }), 'ERR_AUTH_TOKEN_TOO_LARGE');
  });
});

describe('refused claims', () => {
  it('refuses an expired token as expired, and one not yet valid as invalid', async () => {
    await refused(await sign(ec, { ...claims(NOW_S), exp: NOW_S - 1 }), 'ERR_AUTH_TOKEN_EXPIRED');
    await refused(await sign(ec, { ...claims(NOW_S), exp: NOW_S }), 'ERR_AUTH_TOKEN_EXPIRED'); // not on or after exp
    await refused(await sign(ec, { ...claims(NOW_S), nbf: NOW_S + 1 }), 'ERR_AUTH_TOKEN_INVALID', {}, /not valid yet/);
  });

  it.each(['exp', 'nbf', 'iat'])('refuses a missing or non-numeric %s', async claim => {
    const { [claim]: _dropped, ...rest } = claims(NOW_S);
    await refused(await sign(ec, rest), 'ERR_AUTH_TOKEN_INVALID', {}, new RegExp(`${claim} claim`));
    for (const bad of [String(NOW_S + 60), null, [NOW_S + 60]]) await refused(await sign(ec, { ...claims(NOW_S), [claim]: bad }), 'ERR_AUTH_TOKEN_INVALID');
  });

  it('refuses tenants missing, empty, not an array, holding a non-string, not base64 or non-canonical base64', async () => {
    const { tenants: _dropped, ...rest } = claims(NOW_S);
    await refused(await sign(ec, rest), 'ERR_AUTH_TOKEN_INVALID');
    const acme = b64('acme'); // YWNtZQ==
    const bad: unknown[] = [
      [],
      acme,
      { 0: acme },
      null,
      [acme, 5],
      [acme, null],
      [['YWNtZQ==']],
      ['@@@@'],
      ['YWNtZQ'], // no padding
      ['YWNtZR=='], // non-zero padding bits: the same bytes, another string
      ['YWNt ZQ=='],
      ['YWNtZQ==\n'],
      [Buffer.from([0xfb, 0xff]).toString('base64url')], // the URL-safe alphabet
    ];
    for (const tenants of bad) await refused(await sign(ec, { ...claims(NOW_S), tenants }), 'ERR_AUTH_TOKEN_INVALID', {}, /tenants claim/);
  });

  it('refuses tenants that decode to an invalid tenant name', async () => {
    const names = [
      '', // empty
      b64('a\u0000b'),
      b64('line\nbreak'),
      b64('\u0085'), // a C1 control
      b64('a'.repeat(256)),
      Buffer.from([0x61, 0xff, 0x62]).toString('base64'), // not UTF-8
      Buffer.from([0xed, 0xa0, 0x80]).toString('base64'), // an encoded lone surrogate
    ];
    for (const name of names) {
      await refused(await sign(ec, { ...claims(NOW_S), tenants: [b64('acme'), name] }), 'ERR_AUTH_TOKEN_INVALID', {}, /tenants claim (holds an invalid|must hold base64 of UTF-8)/);
    }
    await expect(verifier().verify(await sign(ec, { ...claims(NOW_S), tenants: [b64('a'.repeat(255))] }))).resolves.toBeDefined();
  });

  it('refuses optional claims of the wrong type', async () => {
    for (const extra of [{ jti: 1 }, { sub: {} }, { iss: ['a'] }, { aud: 1 }, { aud: ['a', 2] }, { aud: null }]) {
      await refused(await sign(ec, { ...claims(NOW_S), ...extra }), 'ERR_AUTH_TOKEN_INVALID');
    }
  });

  it('refuses malformed access and value_exists extensions', async () => {
    const bad: Record<string, unknown>[] = [
      { access: 'w' },
      { access: 'rw' },
      { access: null },
      { access: { collection: 'c', access: 'r' } },
      { access: [{ collection: 'c', access: 'w' }] },
      { access: [{ collection: '', access: 'r' }] },
      { access: [{ access: 'r' }] },
      { access: ['c'] },
      { access: [{ collection: 'c', access: 'r', payload: 'x' }] },
      { access: [{ collection: 'c', access: 'r', payload: [1] }] },
      { access: [{ collection: 'c', access: 'r', payload: { f: { nested: 1 } } }] },
      { access: [{ collection: 'c', access: 'r', payload: { f: 1.5 } }] },
      { value_exists: 'x' },
      { value_exists: [] },
      { value_exists: { collection: 'users', matches: [] } },
      { value_exists: { collection: 'users' } },
      { value_exists: { collection: 'users', matches: [{ key: 'status' }] } },
      { value_exists: { collection: 'users', matches: [{ key: '', value: 'a' }] } },
      { value_exists: { collection: '', matches: [{ key: 'status', value: 'a' }] } },
      { value_exists: { key: 'not base64!', value: b64('v') } },
      { value_exists: { key: b64('k') } },
      { value_exists: { key: b64('k'), value: 'dg' } },
      { value_exists: { key: b64('k'), value: b64('v'), tenant: b64('globex') } }, // not one of the token's
      { value_exists: { key: b64('k'), value: b64('v'), tenant: 'acme' } },
    ];
    for (const extra of bad) await refused(await sign(ec, { ...claims(NOW_S), ...extra }), 'ERR_AUTH_TOKEN_INVALID', {}, /access|value_exists/);
  });
});

describe('knobs', () => {
  it('honours the clock skew on exp and nbf', async () => {
    const skew = { clockSkewSeconds: 30 };
    await expect(verifier(skew).verify(await sign(ec, { ...claims(NOW_S), exp: NOW_S - 29 }))).resolves.toBeDefined();
    await refused(await sign(ec, { ...claims(NOW_S), exp: NOW_S - 30 }), 'ERR_AUTH_TOKEN_EXPIRED', skew);
    await expect(verifier(skew).verify(await sign(ec, { ...claims(NOW_S), nbf: NOW_S + 30 }))).resolves.toBeDefined();
    await refused(await sign(ec, { ...claims(NOW_S), nbf: NOW_S + 31 }), 'ERR_AUTH_TOKEN_INVALID', skew);
  });

  it('caps the clock skew at 60 seconds and refuses a negative one', async () => {
    const wide = { clockSkewSeconds: 3600 };
    await expect(verifier(wide).verify(await sign(ec, { ...claims(NOW_S), exp: NOW_S - 59 }))).resolves.toBeDefined();
    await refused(await sign(ec, { ...claims(NOW_S), exp: NOW_S - 60 }), 'ERR_AUTH_TOKEN_EXPIRED', wide);
    await refused(await sign(ec, { ...claims(NOW_S), exp: NOW_S - 600 }), 'ERR_AUTH_TOKEN_EXPIRED', wide);
    await refused(await sign(ec, { ...claims(NOW_S), nbf: NOW_S + 61 }), 'ERR_AUTH_TOKEN_INVALID', wide);
    expect(() => verifier({ clockSkewSeconds: -1 })).toThrow(RangeError);
    expect(() => verifier({ clockSkewSeconds: Number.NaN })).toThrow(RangeError);
  });

  it('checks iss only when an issuer is configured', async () => {
    const noIss = await sign(ec, claims(NOW_S));
    const other = await sign(ec, { ...claims(NOW_S), iss: 'other' });
    await expect(verifier().verify(noIss)).resolves.toBeDefined();
    await expect(verifier().verify(other)).resolves.toMatchObject({ iss: 'other' });
    await expect(verifier({ issuer: '' }).verify(other)).resolves.toBeDefined(); // an empty knob is unset
    const issuer = { issuer: 'https://issuer.example' };
    await refused(noIss, 'ERR_AUTH_TOKEN_INVALID', issuer);
    await refused(other, 'ERR_AUTH_TOKEN_INVALID', issuer);
    await expect(verifier(issuer).verify(await sign(ec, { ...claims(NOW_S), iss: issuer.issuer }))).resolves.toBeDefined();
  });

  it('checks aud only when an audience is configured, as a string or in a list', async () => {
    const noAud = await sign(ec, claims(NOW_S));
    const other = await sign(ec, { ...claims(NOW_S), aud: 'other' });
    await expect(verifier().verify(noAud)).resolves.toBeDefined();
    await expect(verifier().verify(other)).resolves.toMatchObject({ aud: ['other'] });
    await expect(verifier({ audience: '' }).verify(noAud)).resolves.toBeDefined();
    const audience = { audience: 'strata' };
    await refused(noAud, 'ERR_AUTH_TOKEN_INVALID', audience);
    await refused(other, 'ERR_AUTH_TOKEN_INVALID', audience);
    await refused(await sign(ec, { ...claims(NOW_S), aud: ['other', 'strata-x'] }), 'ERR_AUTH_TOKEN_INVALID', audience);
    await expect(verifier(audience).verify(await sign(ec, { ...claims(NOW_S), aud: 'strata' }))).resolves.toBeDefined();
    await expect(verifier(audience).verify(await sign(ec, { ...claims(NOW_S), aud: ['other', 'strata'] }))).resolves.toBeDefined();
  });

  it('refuses nonsensical options as programmer errors', () => {
    expect(() => verifier({ maxTokenBytes: 0 })).toThrow(RangeError);
    expect(() => verifier({ cacheSize: -1 })).toThrow(RangeError);
    expect(() => verifier({ cacheSize: 1.5 })).toThrow(RangeError);
  });
});
