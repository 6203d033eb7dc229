import { generateKeyPairSync } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import { claims, makeKey, memoryLogger, sign, writeJwks, type TestKey } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';

let dir: string;
let remove: () => Promise<void>;
let path: string;
let ec: TestKey;
let rsa: TestKey;
let logger: ReturnType<typeof memoryLogger>;
let clock: number;

const load = () => KeySet.load(path, { logger, now: () => clock });
const publicJwkOf = (type: 'ec' | 'rsa' | 'ed25519', options: object) =>
  generateKeyPairSync(type as 'ec', options as { namedCurve: string }).publicKey.export({ format: 'jwk' });

beforeAll(async () => {
  [ec, rsa] = await Promise.all([makeKey('ES256', 'ec-1'), makeKey('RS256', 'rsa-1')]);
});
beforeEach(async () => {
  ({ dir, remove } = await tempDir('strata-keyset'));
  path = join(dir, 'jwks.json');
  logger = memoryLogger();
  clock = 1_700_000_000_000;
});
afterEach(async () => remove());

describe('KeySet', () => {
  it('loads EC P-256 and RSA keys by kid, with their algorithms', async () => {
    await writeJwks(path, [ec.publicJwk, rsa.publicJwk]);
    const keys = await load();
    expect(keys.kids()).toEqual(['ec-1', 'rsa-1']);
    expect(keys.get('ec-1')?.alg).toBe('ES256');
    expect(keys.get('rsa-1')?.alg).toBe('RS256');
    expect(keys.get('nope')).toBeUndefined();
    expect(keys.lastReload).toBe(clock);
    expect(keys.generation).toBe(1);
    expect(keys.lastError).toBeUndefined();
    expect(logger.lines).toEqual([]);
  });

  it('takes keys without alg or use, inferring the algorithm from the key type', async () => {
    const { alg: _a, use: _u, ...bare } = ec.publicJwk;
    await writeJwks(path, [bare]);
    expect((await load()).get('ec-1')?.alg).toBe('ES256');
  });

  it('drops private members with a warning and keeps the public key', async () => {
    await writeJwks(path, [ec.privateJwk, rsa.privateJwk]);
    const keys = await load();
    expect(keys.kids()).toEqual(['ec-1', 'rsa-1']);
    expect(keys.get('ec-1')?.jwk).not.toHaveProperty('d');
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(keys.get('rsa-1')?.jwk).not.toHaveProperty(m);
    const warnings = logger.lines.filter(l => l.level === 'warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ obj: { kid: 'ec-1', members: ['d'] }, msg: expect.stringMatching(/private key material/) });
    expect(warnings[1]?.obj).toMatchObject({ kid: 'rsa-1', members: ['d', 'p', 'q', 'dp', 'dq', 'qi'] });
    // The warning never carries the private value itself.
    expect(JSON.stringify(logger.lines)).not.toContain(String(ec.privateJwk.d));
    // The public part verifies tokens.
    const token = await sign(ec, claims(1_700_000_000));
    await expect(new TokenVerifier(keys, { now: () => clock }).verify(token)).resolves.toMatchObject({ kid: 'ec-1' });
  });

  it('skips, with a warning each, keys without a kid and keys it cannot use', async () => {
    const { kid: _k, ...kidless } = ec.publicJwk;
    const skipped = [
      kidless,
      { ...rsa.publicJwk, kid: '' },
      { ...rsa.publicJwk, kid: 7 },
      'not an object',
      { ...publicJwkOf('ec', { namedCurve: 'P-384' }), kid: 'p384' },
      { ...publicJwkOf('ed25519', {}), kid: 'ed' },
      { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', kid: 'hmac' },
      { ...publicJwkOf('rsa', { modulusLength: 1024 }), kid: 'rsa-1024' },
      { ...ec.publicJwk, kid: 'wrong-alg', alg: 'RS256' },
      { ...rsa.publicJwk, kid: 'ps', alg: 'PS256' },
      { ...ec.publicJwk, kid: 'enc', use: 'enc' },
      { ...ec.publicJwk, kid: 'ops', key_ops: ['encrypt'] },
      { ...ec.publicJwk, kid: 'off-curve', y: ec.publicJwk.x },
      { kty: 'RSA', kid: 'no-exponent', n: rsa.publicJwk.n },
    ];
    await writeJwks(path, [...skipped, ec.publicJwk]);
    const keys = await load();
    expect(keys.kids()).toEqual(['ec-1']);
    // One warning per skipped key, plus one for the secret `k` dropped from the symmetric key.
    expect(logger.lines.filter(l => l.level === 'warn')).toHaveLength(skipped.length + 1);
    expect(logger.lines.filter(l => (l.obj as { kid?: string }).kid === 'hmac').map(l => l.msg)).toEqual([
      expect.stringMatching(/private key material/),
      expect.stringMatching(/unsupported key type "oct"/),
    ]);
    expect(logger.lines.filter(l => l.level === 'error')).toHaveLength(0);
    expect(logger.lines.find(l => (l.obj as { kid?: string }).kid === 'rsa-1024')?.msg).toMatch(/1024 bits/);
  });

  it('keeps the previous keys in force when the file becomes invalid, and reports it', async () => {
    await writeJwks(path, [ec.publicJwk]);
    const keys = await load();
    const before = keys.get('ec-1');
    const invalid: (string | undefined)[] = [
      'not json',
      '',
      'null',
      '[]',
      '{}',
      '{"keys": {}}',
      JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'x' }] }), // no usable key
      JSON.stringify({ keys: [ec.publicJwk, { ...rsa.publicJwk, kid: 'ec-1' }] }), // a kid twice
      undefined, // the file is gone
    ];
    for (const text of invalid) {
      if (text === undefined) await unlink(path);
      else await writeFile(path, text);
      logger.lines.length = 0;
      clock += 1000;
      await expect(keys.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID' });
      expect(keys.get('ec-1')).toBe(before);
      expect(keys.kids()).toEqual(['ec-1']);
      expect(keys.generation).toBe(1);
      expect(keys.lastReload).toBe(1_700_000_000_000);
      expect(keys.lastError?.code).toBe('ERR_AUTH_KEYSET_INVALID');
      expect(logger.lines.filter(l => l.level === 'error')).toHaveLength(1);
    }
    await writeJwks(path, [ec.publicJwk]);
    await expect(keys.reload()).resolves.toBe(false);
    expect(keys.lastError).toBeUndefined();
    expect(keys.lastReload).toBe(clock);
  });

  it('refuses to start from an invalid file', async () => {
    await writeFile(path, '{"keys": [{"kty": "EC"}]}');
    await expect(load()).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID' });
    await expect(KeySet.load(join(dir, 'missing.json'), { logger })).rejects.toMatchObject({ code: 'ERR_AUTH_KEYSET_INVALID' });
  });

  it('accepts an empty keys list on purpose: no token verifies', async () => {
    await writeJwks(path, [ec.publicJwk]);
    const keys = await load();
    await writeJwks(path, []);
    await expect(keys.reload()).resolves.toBe(true);
    expect(keys.kids()).toEqual([]);
    expect(keys.size).toBe(0);
  });

  it('reports changes: same keys keep their objects and generation; added, removed or replaced keys bump it', async () => {
    await writeJwks(path, [ec.publicJwk]);
    const keys = await load();
    const first = keys.get('ec-1');
    // Reordering members or adding unrelated ones is not a change of key.
    await writeFile(path, JSON.stringify({ keys: [{ ...ec.publicJwk, x5t: 'ignored' }], other: true }, null, 2));
    await expect(keys.reload()).resolves.toBe(false);
    expect(keys.get('ec-1')).toBe(first);
    expect(keys.generation).toBe(1);
    await writeJwks(path, [ec.publicJwk, rsa.publicJwk]);
    await expect(keys.reload()).resolves.toBe(true);
    expect(keys.generation).toBe(2);
    expect(keys.get('ec-1')).toBe(first);
    const other = await makeKey('ES256', 'ec-1');
    await writeJwks(path, [other.publicJwk, rsa.publicJwk]);
    await expect(keys.reload()).resolves.toBe(true);
    expect(keys.get('ec-1')).not.toBe(first);
    await writeJwks(path, [rsa.publicJwk]);
    await expect(keys.reload()).resolves.toBe(true);
    expect(keys.generation).toBe(4);
    expect(keys.kids()).toEqual(['rsa-1']);
  });

  it('runs overlapping reloads one after the other', async () => {
    await writeJwks(path, [ec.publicJwk]);
    const keys = await load();
    await writeJwks(path, [ec.publicJwk, rsa.publicJwk]);
    const results = await Promise.all([keys.reload(), keys.reload(), keys.reload()]);
    expect(results).toEqual([true, false, false]);
    expect(keys.generation).toBe(2);
  });

  it('reads a file that starts with a byte-order mark', async () => {
    await writeFile(path, `\uFEFF${JSON.stringify({ keys: [ec.publicJwk] })}`);
    expect((await load()).kids()).toEqual(['ec-1']);
  });
});
