import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { runStrata } from '../helpers/cli.js';

const strata = (args: string[]) => runStrata(args);

describe('strata apikey and strata keys rotate (on a data directory)', () => {
  let dir: string;
  let remove: () => Promise<void>;
  const d = () => ['--data-dir', dir];
  beforeEach(async () => {
    ({ dir, remove } = await tempDir('strata-cli-apikey'));
    await strata(['init', ...d()]);
    await strata(['tenant', 'create', 'acme', ...d()]);
  });
  afterEach(async () => remove());

  it('creates a key (printed once), lists it without its secret, rotates and revokes it', async () => {
    const created = await strata(['apikey', 'create', '--name', 'ci-ingest', '--tenants', 'acme', '--access', '[{"collection":"docs","access":"rw"}]', '--ttl', '90d', ...d()]);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^strata_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/not shown again/);
    const id = key.slice('strata_'.length, 'strata_'.length + 16);
    const listed = await strata(['apikey', 'list', '--json', ...d()]);
    const keys = (JSON.parse(listed.stdout) as { apikeys: Array<Record<string, unknown>> }).apikeys;
    expect(keys).toEqual([expect.objectContaining({ id, name: 'ci-ingest', tenants: ['acme'], access: [{ collection: 'docs', access: 'rw' }], last_used_at: null })]);
    expect(listed.stdout).not.toContain(key.slice(-43));
    const rotated = await strata(['apikey', 'rotate', id, '--grace', '1h', '--json', ...d()]);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ id, key: expect.stringMatching(new RegExp(`^strata_${id}_`)), previous_secret_until: expect.any(String) });
    expect((await strata(['apikey', 'revoke', id, ...d()])).stdout).toBe(`API key ${id} revoked\n`);
    expect((await strata(['apikey', 'list', ...d()])).stdout).toBe('No API keys\n');
    const again = await strata(['apikey', 'revoke', id, ...d()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/ERR_APIKEY_NOT_FOUND/);
  });

  it('refuses bad input with nothing stored', async () => {
    const missing = await strata(['apikey', 'create', '--name', 'x', '--tenants', 'nobody', ...d()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ERR_TENANT_NOT_FOUND/);
    const badAccess = await strata(['apikey', 'create', '--name', 'x', '--tenants', 'acme', '--access', 'rwx', ...d()]);
    expect(badAccess.code).toBe(2);
    expect((await strata(['apikey', 'list', ...d()])).stdout).toBe('No API keys\n');
  });

  it('rotates the issuing key, keeping the old one until its tokens have expired', async () => {
    const first = JSON.parse((await strata(['keys', 'rotate', '--json', ...d()])).stdout) as { kid: string; retiring: unknown[] };
    expect(first.kid).toMatch(/^strata-/);
    const second = JSON.parse((await strata(['keys', 'rotate', '--json', ...d()])).stdout) as { kid: string; retiring: Array<{ kid: string }> };
    expect(second.retiring.map(r => r.kid)).toEqual([first.kid]);
  });
});
