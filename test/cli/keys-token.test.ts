import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeySet } from '../../src/auth/keyset.js';
import { TokenVerifier } from '../../src/auth/token.js';
import { memoryLogger } from '../helpers/jwt.js';
import { tempDir } from '../helpers/tmp.js';
import { runStrata } from '../helpers/cli.js';

// `strata keys generate` and `strata token mint`, run from the built CLI as a user runs them, and
// checked against the verifier the server uses.

let dir: string;
let remove: () => Promise<void>;

/** Run the built `strata` command in the test's directory. */
const strata = (args: string[]) => runStrata(args, { cwd: dir });

const readJson = async (name: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(dir, name), 'utf8'));
const modeOf = async (name: string) => (await stat(join(dir, name))).mode & 0o777;

/** Verify `token` as the server would, with the JWK Set in the test directory. */
async function verify(token: string) {
  const keys = await KeySet.load(join(dir, 'jwks.json'), { logger: memoryLogger() });
  return new TokenVerifier(keys).verify(token);
}

beforeEach(async () => {
  ({ dir, remove } = await tempDir('strata-keys'));
});
afterEach(async () => remove());

describe('strata keys generate', () => {
  it('writes the private JWK with mode 0600 and merges the public key into the JWK Set', async () => {
    const es = await strata(['keys', 'generate', '--alg', 'ES256', '--kid', 'k1']);
    expect(es).toMatchObject({ code: 0, stderr: '' });
    expect(es.stdout).toContain('./k1.private.jwk.json');
    expect(await modeOf('k1.private.jwk.json')).toBe(0o600);
    expect(await readJson('k1.private.jwk.json')).toMatchObject({ kid: 'k1', alg: 'ES256', use: 'sig', kty: 'EC', crv: 'P-256', d: expect.any(String) });

    const rs = await strata(['keys', 'generate', '--alg', 'RS256', '--kid', 'k2', '--private-key-file', 'rsa.json', '--json']);
    expect(JSON.parse(rs.stdout)).toEqual({ kid: 'k2', alg: 'RS256', privateKeyFile: 'rsa.json', jwksFile: './jwks.json', keys: 2 });
    expect(await modeOf('rsa.json')).toBe(0o600);

    const jwks = await readJson('jwks.json');
    const keys = jwks['keys'] as Record<string, unknown>[];
    expect(keys.map(k => [k['kid'], k['alg'], k['use'], k['kty']])).toEqual([
      ['k1', 'ES256', 'sig', 'EC'],
      ['k2', 'RS256', 'sig', 'RSA'],
    ]);
    for (const k of keys) for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k).not.toHaveProperty(m);
    // The server loads it without a warning.
    const logger = memoryLogger();
    expect((await KeySet.load(join(dir, 'jwks.json'), { logger })).kids()).toEqual(['k1', 'k2']);
    expect(logger.lines).toEqual([]);
  });

  it('refuses to overwrite a private key file or replace a kid without --force, changing nothing', async () => {
    await strata(['keys', 'generate', '--kid', 'k1']);
    const privateBefore = await readFile(join(dir, 'k1.private.jwk.json'), 'utf8');
    const jwksBefore = await readFile(join(dir, 'jwks.json'), 'utf8');

    const sameKid = await strata(['keys', 'generate', '--kid', 'k1', '--private-key-file', 'other.json']);
    expect(sameKid.code).toBe(2);
    expect(sameKid.stderr).toBe('strata: ERR_CLI_INVALID_ARGUMENT: ./jwks.json already has a key with kid "k1"; choose another --kid, or pass --force to replace it\n');
    const sameFile = await strata(['keys', 'generate', '--kid', 'k2', '--private-key-file', 'k1.private.jwk.json']);
    expect(sameFile.code).toBe(2);
    expect(sameFile.stderr).toMatch(/^strata: ERR_CLI_INVALID_ARGUMENT: k1\.private\.jwk\.json already exists; .*--force/);
    expect(await readFile(join(dir, 'k1.private.jwk.json'), 'utf8')).toBe(privateBefore);
    expect(await readFile(join(dir, 'jwks.json'), 'utf8')).toBe(jwksBefore);
    await expect(stat(join(dir, 'other.json'))).rejects.toMatchObject({ code: 'ENOENT' });

    expect((await strata(['keys', 'generate', '--kid', 'k1', '--force'])).code).toBe(0);
    expect(await readFile(join(dir, 'k1.private.jwk.json'), 'utf8')).not.toBe(privateBefore);
    expect(await modeOf('k1.private.jwk.json')).toBe(0o600);
    const keys = (await readJson('jwks.json'))['keys'] as { kid: string }[];
    expect(keys.map(k => k.kid)).toEqual(['k1']);
  });

  it('keeps an existing JWK Set’s other keys and members, and refuses one it cannot read', async () => {
    await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ kid: 'theirs', kty: 'EC' }], note: 'kept' }));
    expect((await strata(['keys', 'generate', '--kid', 'mine'])).code).toBe(0);
    const jwks = await readJson('jwks.json');
    expect(jwks['note']).toBe('kept');
    expect((jwks['keys'] as { kid: string }[]).map(k => k.kid)).toEqual(['theirs', 'mine']);

    await writeFile(join(dir, 'broken.json'), '{"not": "a key set"}');
    const broken = await strata(['keys', 'generate', '--kid', 'x', '--jwks-file', 'broken.json']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^strata: ERR_AUTH_KEYSET_INVALID: broken\.json is not a JWK Set/);
    await expect(stat(join(dir, 'x.private.jwk.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a bad algorithm or kid in one line, with exit code 2', async () => {
    for (const args of [['--alg', 'HS256', '--kid', 'k'], ['--kid', '../escape'], ['--kid', ''], []]) {
      const run = await strata(['keys', 'generate', ...args]);
      expect(run).toMatchObject({ code: 2, stdout: '' });
      expect(run.stderr).toMatch(/^strata: ERR_CLI_INVALID_ARGUMENT: [^\n]+\n$/);
    }
  });
});

describe('strata token mint', () => {
  beforeEach(async () => {
    expect((await strata(['keys', 'generate', '--alg', 'ES256', '--kid', 'ec'])).code).toBe(0);
    expect((await strata(['keys', 'generate', '--alg', 'RS256', '--kid', 'rsa'])).code).toBe(0);
  });

  it('prints only a token that the server’s verifier accepts, with the claims asked for', async () => {
    const before = Math.floor(Date.now() / 1000);
    const run = await strata(['token', 'mint', '--key', 'ec.private.jwk.json', '--tenants', 'acme,Zürich', '--ttl', '15m', '--jti', 'j1', '--sub', 'ada', '--iss', 'me', '--aud', 'svc']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const token = run.stdout.trim();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'ec' });
    const v = await verify(token);
    expect(v).toMatchObject({ tenants: ['acme', 'Zürich'], kid: 'ec', jti: 'j1', sub: 'ada', iss: 'me', aud: ['svc'] });
    expect(v.iat).toBeGreaterThanOrEqual(before);
    expect(v.nbf).toBe(v.iat);
    expect(v.exp).toBe(v.iat + 900);
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    expect(payload.tenants).toEqual([Buffer.from('acme').toString('base64'), Buffer.from('Zürich').toString('base64')]);

    const rs = (await strata(['token', 'mint', '--key', 'rsa.private.jwk.json', '--tenants', 'acme'])).stdout.trim();
    expect(decodeProtectedHeader(rs)).toMatchObject({ alg: 'RS256', kid: 'rsa' });
    const w = await verify(rs);
    expect(w.exp - w.iat).toBe(3600); // the default ttl
  });

  it('mints the access and value_exists extensions', async () => {
    const access = [{ collection: 'docs', access: 'rw', payload: { owner: 'ada' } }];
    const valueExists = { key: Buffer.from('user/ada').toString('base64'), value: Buffer.from('active').toString('base64') };
    const run = await strata([
      'token', 'mint', '--key', 'ec.private.jwk.json', '--tenants', 'acme', '--access', JSON.stringify(access), '--value-exists', JSON.stringify(valueExists),
    ]);
    expect(run.code).toBe(0);
    const v = await verify(run.stdout.trim());
    expect(v.access).toEqual(access);
    expect(v.valueExists).toEqual({ kind: 'kv', ...valueExists });
    for (const bare of ['r', 'm']) {
      const t = await strata(['token', 'mint', '--key', 'ec.private.jwk.json', '--tenants', 'acme', '--access', bare]);
      expect((await verify(t.stdout.trim())).access).toBe(bare);
    }
  });

  it.each(['30s', '15m', '1h', '7d', '90'])('parses the duration %s', async ttl => {
    const run = await strata(['token', 'mint', '--key', 'ec.private.jwk.json', '--tenants', 'acme', '--ttl', ttl]);
    const v = await verify(run.stdout.trim());
    const seconds = { '30s': 30, '15m': 900, '1h': 3600, '7d': 604_800, '90': 90 }[ttl];
    expect(v.exp - v.iat).toBe(seconds);
  });

  it('refuses bad input in one line, with exit code 2 and nothing on stdout', async () => {
    await writeFile(join(dir, 'garbage.json'), 'garbage');
    const key = ['--key', 'ec.private.jwk.json'];
    const cases: string[][] = [
      ['--tenants', 'acme'],
      [...key],
      [...key, '--tenants', ''],
      [...key, '--tenants', 'acme,,globex'],
      [...key, '--tenants', 'a\u0001b'],
      [...key, '--tenants', 'x'.repeat(256)],
      [...key, '--tenants', 'acme', '--ttl', '0s'],
      [...key, '--tenants', 'acme', '--ttl', '1w'],
      [...key, '--tenants', 'acme', '--ttl', '-5m'],
      [...key, '--tenants', 'acme', '--ttl', '1.5h'],
      [...key, '--tenants', 'acme', '--access', '{not json'],
      [...key, '--tenants', 'acme', '--access', 'w'],
      [...key, '--tenants', 'acme', '--access', '[{"collection":"c","access":"x"}]'],
      [...key, '--tenants', 'acme', '--value-exists', '{"key":"!!","value":"AA=="}'],
      [...key, '--tenants', 'acme', '--value-exists', `{"key":"AA==","value":"AA==","tenant":"${Buffer.from('globex').toString('base64')}"}`],
      ['--key', 'missing.json', '--tenants', 'acme'],
      ['--key', 'garbage.json', '--tenants', 'acme'],
      ['--key', 'jwks.json', '--tenants', 'acme'], // a JWK Set, not a JWK
    ];
    for (const args of cases) {
      const run = await strata(['token', 'mint', ...args]);
      expect({ args, ...run }).toMatchObject({ code: 2, stdout: '' });
      expect(run.stderr).toMatch(/^strata: ERR_CLI_INVALID_ARGUMENT: [^\n]+\n$/);
    }
  });

  it('refuses to sign with a public key', async () => {
    const jwks = await readJson('jwks.json');
    await writeFile(join(dir, 'public.json'), JSON.stringify((jwks['keys'] as unknown[])[0]));
    const run = await strata(['token', 'mint', '--key', 'public.json', '--tenants', 'acme']);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/public key; minting needs the private key file/);
  });
});

describe('help', () => {
  it.each([[['keys']], [['keys', 'generate']], [['token']], [['token', 'mint']]])('explains %j with --help', async path => {
    const run = await strata([...path, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: strata/);
    if (path.length === 2) expect(run.stdout).toMatch(/Example:/);
  });
});
