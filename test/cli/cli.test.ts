import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { runStrata } from '../helpers/cli.js';

/** Run the built `strata` command as a user would. */
const strata = (args: string[], env: Record<string, string> = {}) => runStrata(args, { env });

describe('strata CLI', () => {
  let dir: string;
  let remove: () => Promise<void>;
  const d = () => ['--data-dir', dir];
  beforeEach(async () => {
    ({ dir, remove } = await tempDir('strata-cli'));
    expect((await strata(['init', ...d()])).stdout).toBe(`Created an empty store in ${dir}\n`);
  });
  afterEach(async () => remove());

  it('manages tenants: create, get, list, rename, delete', async () => {
    expect(await strata(['tenant', 'create', 'acme', ...d()])).toMatchObject({
      code: 0,
      stdout: "The tenant `acme' has been created with id 0000000000000001\n",
    });
    await strata(['tenant', 'create', 'globex', ...d()]);
    expect(JSON.parse((await strata(['tenant', 'get', 'acme', '--json', ...d()])).stdout)).toEqual({ name: 'acme', id: '0000000000000001' });
    const list = await strata(['tenant', 'list', '--json', ...d()]);
    expect(JSON.parse(list.stdout)).toEqual({
      tenants: [
        { name: 'acme', id: '0000000000000001' },
        { name: 'globex', id: '0000000000000002' },
      ],
      more: false,
    });
    expect((await strata(['tenant', 'list', '--limit', '1', ...d()])).stdout).toContain('1. acme');
    expect((await strata(['tenant', 'rename', 'acme', 'acme-corp', ...d()])).code).toBe(0);
    expect((await strata(['tenant', 'delete', 'acme-corp', ...d()])).code).toBe(0);
    expect(JSON.parse((await strata(['status', '--json', ...d()])).stdout)).toMatchObject({ engine: 'embedded', tenants: 1 });
  });

  it('reads and writes keys with \\xNN escapes, in a tenant and in the raw keyspace', async () => {
    await strata(['tenant', 'create', 'acme', ...d()]);
    expect(await strata(['kv', 'set', '--tenant', 'acme', 'user\\x0042', 'Ada\\\\', ...d()])).toMatchObject({
      code: 0,
      stdout: "Committed: `user\\x0042' is `Ada\\\\'\n",
    });
    expect((await strata(['kv', 'get', '--tenant', 'acme', 'user\\x0042', ...d()])).stdout).toBe("`user\\x0042' is `Ada\\\\'\n");
    // The raw keyspace does not see the tenant's key at its bare name.
    expect((await strata(['kv', 'get', 'user\\x0042', ...d()])).stdout).toBe("`user\\x0042': not found\n");
    await strata(['kv', 'set', 'raw1', 'a', ...d()]);
    await strata(['kv', 'set', 'raw2', 'b', ...d()]);
    const range = await strata(['kv', 'getrange', 'raw', 'raw\\xff', '--limit', '1', ...d()]);
    expect(range.stdout).toBe("\nRange limited to 1 keys\n`raw1' is `a'\n(more keys follow; raise --limit or continue from after the last key)\n");
    expect((await strata(['kv', 'getrange', 'raw', 'raw\\xff', '--reverse', ...d()])).stdout).toContain("`raw2' is `b'\n`raw1' is `a'");
    await strata(['kv', 'clear', 'raw1', ...d()]);
    await strata(['kv', 'clearrange', '--tenant', 'acme', '', '\\xff', ...d()]);
    expect((await strata(['kv', 'get', '--tenant', 'acme', 'user\\x0042', ...d()])).stdout).toContain('not found');
    expect((await strata(['kv', 'getrange', 'raw', 'raw\\xff', ...d()])).stdout).not.toContain('raw1');
  });

  it('prints a one-line reason and exits non-zero on failure, changing nothing', async () => {
    await strata(['tenant', 'create', 'acme', ...d()]);
    const dup = await strata(['tenant', 'create', 'acme', ...d()]);
    expect(dup).toMatchObject({ code: 1, stdout: '' });
    expect(dup.stderr).toBe('strata: ERR_TENANT_EXISTS: a tenant called "acme" already exists\n');
    const badEscape = await strata(['kv', 'set', 'k\\q', 'v', ...d()]);
    expect(badEscape.code).toBe(2);
    expect(badEscape.stderr).toMatch(/^strata: ERR_CLI_INVALID_ARGUMENT: invalid escape/);
    expect((await strata(['kv', 'getrange', '', '\\xff', ...d()])).stdout).not.toContain('k\\\\q');
    const tooLong = await strata(['kv', 'set', 'x'.repeat(1978), 'v', ...d()]);
    expect(tooLong).toMatchObject({ code: 1 });
    expect(tooLong.stderr).toMatch(/^strata: ERR_KV_KEY_TOO_LARGE: /);
    const badName = await strata(['tenant', 'create', 'a\nb', ...d()]);
    expect(badName.stderr).toMatch(/^strata: ERR_TENANT_NAME_INVALID: /);
    expect(badName.stderr.split('\n')).toHaveLength(2); // one line, and the newline in the name is not echoed raw
    expect((await strata(['kv', 'get', '--tenant', 'ghost', 'k', ...d()])).stderr).toMatch(/^strata: ERR_TENANT_NOT_FOUND/);
    expect((await strata(['tenant', 'list', '--limit', '0', ...d()])).code).toBe(2);
    expect((await strata(['tenant', 'bogus', ...d()])).code).toBe(2);
    expect(JSON.parse((await strata(['tenant', 'list', '--json', ...d()])).stdout).tenants).toHaveLength(1);
  });

  it('refuses a data directory another process holds, naming it', async () => {
    const { openDatabase } = await import('../../src/kv/open.js');
    const db = await openDatabase({ dataDir: dir });
    try {
      const run = await strata(['status', ...d()]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^strata: ERR_KV_DATA_DIR_LOCKED: data directory .* is in use by process ${process.pid}`));
    } finally {
      await db.close();
    }
  });

  it('says what to install when --cluster-file is used without the FoundationDB client', async () => {
    const run = await strata(['status', '--cluster-file', '/nonexistent/fdb.cluster']);
    // (The data directory made in beforeEach is not involved.)
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^strata: ERR_KV_ENGINE_UNAVAILABLE: .*foundationdb-clients/);
  });

  it('refuses a directory holding no store, so a mistyped path is an error, and init is idempotent', async () => {
    const typo = `${dir}/typo`;
    const run = await strata(['kv', 'get', 'k', '--data-dir', typo]);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toBe(`strata: ERR_KV_STORE_NOT_FOUND: no Strata store in ${typo}; create one with \`strata init --data-dir ${typo}\`\n`);
    expect((await strata(['status', '--data-dir', typo])).code).toBe(1);
    expect(existsSync(typo)).toBe(false);
    expect((await strata(['init', ...d()])).stdout).toBe(`${dir} already holds a store\n`);
  });

  it('uses $STRATA_DATA_DIR when no flag is given', async () => {
    await strata(['tenant', 'create', 'env-tenant'], { STRATA_DATA_DIR: dir });
    expect((await strata(['tenant', 'get', 'env-tenant', ...d()])).code).toBe(0);
  });

  it.each([
    [[]],
    [['init']],
    [['status']],
    [['tenant']],
    [['tenant', 'create']],
    [['tenant', 'list']],
    [['tenant', 'get']],
    [['tenant', 'rename']],
    [['tenant', 'delete']],
    [['kv']],
    [['kv', 'get']],
    [['kv', 'set']],
    [['kv', 'clear']],
    [['kv', 'getrange']],
    [['kv', 'clearrange']],
  ])('explains %j with --help', async path => {
    const run = await strata([...path, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: strata/);
    if (path.length === 2) expect(run.stdout).toContain('--data-dir');
  });
});
