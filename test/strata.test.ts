import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeToken } from '../src/auth/revocation.js';
import { openStrata, type Strata } from '../src/strata.js';
import { createTenant } from '../src/tenancy/registry.js';
import { claims, makeKey, sign, writeJwks, type TestKey } from './helpers/jwt.js';
import { tempDir } from './helpers/tmp.js';

const enc = (s: string) => Buffer.from(s);
const now = () => Math.floor(Date.now() / 1000);

/** The library enforces a token exactly as the server does, with no network hop. */
describe('openStrata: tenant handles under a token', () => {
  let strata: Strata;
  let key: TestKey;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    const t = await tempDir('strata-lib');
    remove = t.remove;
    key = await makeKey('ES256', 'lib-1');
    await writeJwks(join(t.dir, 'jwks.json'), [key.publicJwk]);
    strata = await openStrata({ dataDir: join(t.dir, 'data'), authorizationPublicKeyFile: join(t.dir, 'jwks.json') });
    await strata.db.transact(async tx => {
      await createTenant(tx, 'acme');
      await createTenant(tx, 'globex');
    });
  });
  afterAll(async () => {
    await strata.close();
    await remove();
  });

  it('lets a token reach the tenants it lists, confined to their keyspace', async () => {
    const token = await sign(key, claims(now(), ['acme']));
    await strata.tenant('acme', { token }).transact(async tx => tx.set(enc('k'), enc('v')));
    expect(Buffer.from((await strata.tenant('acme', { trusted: true }).transact(tx => tx.get(enc('k'))))!).toString()).toBe('v');
    expect(await strata.tenant('globex', { trusted: true }).transact(tx => tx.get(enc('k')))).toBeUndefined();
  });

  it('never treats a missing token as trusted: { token: undefined } is a caller without one', async () => {
    await expect(strata.tenant('acme', { token: undefined }).transact(tx => tx.get(enc('k')))).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_MISSING' });
  });

  it('enforces the access claim: read-only tokens cannot write, collection-scoped tokens cannot use keys', async () => {
    const readOnly = await sign(key, { ...claims(now(), ['acme']), access: 'r' });
    expect(await strata.tenant('acme', { token: readOnly }).transact(tx => tx.get(enc('k')))).toBeDefined();
    await expect(strata.tenant('acme', { token: readOnly }).transact(async tx => tx.set(enc('ro'), enc('x')))).rejects.toMatchObject({
      code: 'ERR_ACCESS_READ_ONLY',
    });
    expect(await strata.tenant('acme', { trusted: true }).transact(tx => tx.get(enc('ro')))).toBeUndefined();
    const scoped = await sign(key, { ...claims(now(), ['acme']), access: [{ collection: 'docs', access: 'rw' }] });
    await expect(strata.tenant('acme', { token: scoped }).transact(tx => tx.get(enc('k')))).rejects.toMatchObject({ code: 'ERR_ACCESS_COLLECTION_SCOPED' });
  });

  it('refuses a token for another tenant, a forged one, a revoked one, and a value_exists that no longer holds', async () => {
    const forA = await sign(key, claims(now(), ['acme']));
    await expect(strata.tenant('globex', { token: forA }).transact(async tx => tx.set(enc('x'), enc('x')))).rejects.toMatchObject({
      code: 'ERR_AUTH_TENANT_FORBIDDEN',
    });
    const other = await makeKey('ES256', 'lib-1');
    const forged = await sign(other, claims(now(), ['acme']));
    await expect(strata.tenant('acme', { token: forged }).transact(tx => tx.get(enc('k')))).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_INVALID' });
    const revocable = await sign(key, { ...claims(now(), ['acme']), jti: 'lib-jti' });
    await strata.tenant('acme', { token: revocable }).transact(tx => tx.get(enc('k')));
    await strata.db.transact(async tx => revokeToken(tx, 'lib-jti', now() + 3600));
    await expect(strata.tenant('acme', { token: revocable }).transact(tx => tx.get(enc('k')))).rejects.toMatchObject({ code: 'ERR_AUTH_TOKEN_REVOKED' });
    await strata.tenant('acme', { trusted: true }).transact(async tx => tx.set(enc('status'), enc('on')));
    const conditional = await sign(key, { ...claims(now(), ['acme']), value_exists: { key: enc('status').toString('base64'), value: enc('on').toString('base64') } });
    await strata.tenant('acme', { token: conditional }).transact(tx => tx.get(enc('k')));
    await strata.tenant('acme', { trusted: true }).transact(async tx => tx.set(enc('status'), enc('off')));
    await expect(strata.tenant('acme', { token: conditional }).transact(async tx => tx.set(enc('y'), enc('y')))).rejects.toMatchObject({
      code: 'ERR_AUTH_TOKEN_REVOKED',
    });
    expect(await strata.tenant('acme', { trusted: true }).transact(tx => tx.get(enc('y')))).toBeUndefined();
    expect(await strata.tenant('globex', { trusted: true }).transact(tx => tx.get(enc('x')))).toBeUndefined();
  });
});
