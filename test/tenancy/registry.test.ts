import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { TENANT_KEY_SIZE_LIMIT, tenantPrefix } from '../../src/tenancy/layout.js';
import {
  countTenants,
  createTenant,
  deleteTenant,
  getTenant,
  listTenants,
  renameTenant,
  tenantIdHex,
} from '../../src/tenancy/registry.js';
import { tenantHandle } from '../../src/tenancy/tenant.js';
import { dec, enc } from '../helpers/bytes.js';
import { tempDir } from '../helpers/tmp.js';

let db: Database;
let remove: () => Promise<void>;
beforeEach(async () => {
  const t = await tempDir('strata-tenancy');
  remove = t.remove;
  db = await openDatabase({ dataDir: t.dir });
});
afterEach(async () => {
  await db.close();
  await remove();
});

const create = (name: string) => db.transact(tx => createTenant(tx, name));

describe('tenant registry', () => {
  it('creates tenants with increasing ids and finds them by name', async () => {
    const a = await create('acme');
    const b = await create('globex');
    expect(a.id).toBe(1n);
    expect(b.id).toBe(2n);
    expect(tenantIdHex(b.id)).toBe('0000000000000002');
    expect([...a.prefix]).toEqual([...tenantPrefix(1n)]);
    expect(await db.transact(tx => getTenant(tx, 'globex'))).toEqual(b);
    expect(await db.transact(tx => getTenant(tx, 'initech'))).toBeUndefined();
    expect(await db.transact(tx => countTenants(tx))).toBe(2);
  });

  it('refuses a duplicate name with ERR_TENANT_EXISTS and changes nothing', async () => {
    await create('acme');
    await expect(create('acme')).rejects.toMatchObject({ code: 'ERR_TENANT_EXISTS' });
    expect(await db.transact(tx => countTenants(tx))).toBe(1);
  });

  it('gives concurrent creations distinct ids, and exactly one wins a contested name', async () => {
    const made = await Promise.all(Array.from({ length: 20 }, (_, i) => create(`t${i}`)));
    expect(new Set(made.map(t => t.id)).size).toBe(20);
    const results = await Promise.allSettled([create('same'), create('same'), create('same')]);
    expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter(r => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_TENANT_EXISTS' });
    }
  });

  it('lists by name within [begin, end) with a limit and a more flag', async () => {
    for (const n of ['delta', 'alpha', 'charlie', 'bravo', 'echo']) await create(n);
    const page1 = await db.transact(tx => listTenants(tx, { limit: 2 }));
    expect(page1.tenants.map(t => t.name)).toEqual(['alpha', 'bravo']);
    expect(page1.more).toBe(true);
    const middle = await db.transact(tx => listTenants(tx, { begin: 'bravo', end: 'delta' }));
    expect(middle.tenants.map(t => t.name)).toEqual(['bravo', 'charlie']);
    expect(middle.more).toBe(false);
    for (const limit of [0, -1, 1.5, 10_001]) {
      await expect(db.transact(tx => listTenants(tx, { limit }))).rejects.toMatchObject({ code: 'ERR_TENANT_LIMIT_INVALID' });
    }
  });

  it('renames a tenant keeping its id and data', async () => {
    const a = await create('acme');
    await tenantHandle(db, 'acme').transact(async tx => tx.set(enc('k'), enc('v')));
    const renamed = await db.transact(tx => renameTenant(tx, 'acme', 'acme-corp'));
    expect(renamed.id).toBe(a.id);
    expect(await db.transact(tx => getTenant(tx, 'acme'))).toBeUndefined();
    expect(dec(await tenantHandle(db, 'acme-corp').transact(tx => tx.get(enc('k'))))).toBe('v');
    await create('other');
    await expect(db.transact(tx => renameTenant(tx, 'acme-corp', 'other'))).rejects.toMatchObject({ code: 'ERR_TENANT_EXISTS' });
    await expect(db.transact(tx => renameTenant(tx, 'ghost', 'x'))).rejects.toMatchObject({ code: 'ERR_TENANT_NOT_FOUND' });
  });

  it('refuses to delete a tenant holding data unless forced; force removes only its data', async () => {
    await create('acme');
    await create('globex');
    await tenantHandle(db, 'acme').transact(async tx => tx.set(enc('k'), enc('acme')));
    await tenantHandle(db, 'globex').transact(async tx => tx.set(enc('k'), enc('globex')));
    await expect(db.transact(tx => deleteTenant(tx, 'acme'))).rejects.toMatchObject({ code: 'ERR_TENANT_NOT_EMPTY' });
    expect(dec(await tenantHandle(db, 'acme').transact(tx => tx.get(enc('k'))))).toBe('acme');
    await db.transact(tx => deleteTenant(tx, 'acme', { force: true }));
    expect(await db.transact(tx => getTenant(tx, 'acme'))).toBeUndefined();
    expect(dec(await tenantHandle(db, 'globex').transact(tx => tx.get(enc('k'))))).toBe('globex');
    const { kvs } = await db.transact(tx => tx.getRange(tenantPrefix(1n), tenantPrefix(2n)));
    expect(kvs).toEqual([]);
    expect(await db.transact(tx => countTenants(tx))).toBe(1);
  });

  it('deletes an empty tenant, never reuses its id, and a handle on it then fails with ERR_TENANT_NOT_FOUND', async () => {
    const a = await create('acme');
    await db.transact(tx => deleteTenant(tx, 'acme'));
    await expect(tenantHandle(db, 'acme').transact(tx => tx.get(enc('k')))).rejects.toMatchObject({ code: 'ERR_TENANT_NOT_FOUND' });
    const again = await create('acme');
    expect(again.id).toBeGreaterThan(a.id);
    await expect(db.transact(tx => deleteTenant(tx, 'ghost'))).rejects.toMatchObject({ code: 'ERR_TENANT_NOT_FOUND' });
  });

  it('states tenant-relative key limits', async () => {
    await create('acme');
    const acme = tenantHandle(db, 'acme');
    await acme.transact(async tx => tx.set(new Uint8Array(TENANT_KEY_SIZE_LIMIT), enc('ok')));
    await expect(acme.transact(async tx => tx.set(new Uint8Array(TENANT_KEY_SIZE_LIMIT + 1), enc('x')))).rejects.toMatchObject({
      code: 'ERR_KV_KEY_TOO_LARGE',
      details: { limit: TENANT_KEY_SIZE_LIMIT },
    });
  });
});

describe('tenant names', () => {
  it.each([
    ['empty', ''],
    ['256 bytes', 'x'.repeat(256)],
    ['128 two-byte characters (256 bytes)', 'é'.repeat(128)],
    ['a NUL byte', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['DEL', 'a\u007f'],
    ['a C1 control', 'a\u0085'],
    ['an unpaired surrogate', 'a\ud800'],
  ])('refuses %s with ERR_TENANT_NAME_INVALID, creating nothing', async (_what, name) => {
    await expect(create(name)).rejects.toMatchObject({ code: 'ERR_TENANT_NAME_INVALID' });
    expect(await db.transact(tx => countTenants(tx))).toBe(0);
  });

  it.each([
    ['255 bytes', 'x'.repeat(255)],
    ['Unicode', 'société-générale 東京 🔥'],
    ['punctuation and spaces', 'a b/c%d'],
  ])('accepts %s', async (_what, name) => {
    expect((await create(name)).name).toBe(name);
    expect((await db.transact(tx => getTenant(tx, name)))?.name).toBe(name);
  });
});
