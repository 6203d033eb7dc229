import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { tempDir } from '../helpers/tmp.js';

// `strata cli --exec`, run in-process as the `strata` binary runs it, output captured.

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let remove: () => Promise<void>;

async function strata(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const output: Output = { out: line => out.push(line), err: line => err.push(line) };
  const code = await runCli(['node', 'strata', ...args], output);
  const text = (lines: string[]) => lines.map(l => `${l}\n`).join('');
  return { code, stdout: text(out), stderr: text(err) };
}

/** `strata cli --data-dir DIR --exec COMMANDS`. */
const exec = (commands: string) => strata(['cli', '--data-dir', dir, '--exec', commands]);

/** The raw keyspace's user keys, as `strata kv getrange` prints them. */
const rawKeys = async () => (await strata(['kv', 'getrange', '', '\\xfd', '--data-dir', dir])).stdout;

beforeEach(async () => {
  ({ dir, remove } = await tempDir('strata-shell'));
  expect((await strata(['init', '--data-dir', dir])).code).toBe(0);
});
afterEach(async () => remove());

describe('strata cli --exec: writemode', () => {
  it.each([
    ['set a 1'],
    ['clear a'],
    ['clearrange a b'],
    ['tenant create acme'],
    ['tenant delete acme'],
    ['tenant rename acme globex'],
    ['writemode on; writemode off; set a 1'],
  ])('refuses %j until writemode on, with fdbcli’s words, writing nothing', async commands => {
    const run = await exec(commands);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('ERROR: writemode must be enabled to set or clear keys in the database.\n');
  });

  it('leaves the store untouched by refused writes, and writes once writemode is on', async () => {
    await exec('set a 1');
    await exec('tenant create acme');
    expect(await rawKeys()).toBe('\nRange limited to 25 keys\n');
    expect((await exec('tenant list')).stdout).toBe('The cluster has no tenants\n');
    // Writemode lasts for one session: a new --exec starts with it off again.
    expect((await exec('writemode on')).code).toBe(0);
    expect((await exec('set a 1')).code).toBe(1);
    expect(await exec('writemode on; set a 1')).toMatchObject({ code: 0, stdout: ">>> writemode on\n>>> set a 1\nCommitted: `a' is `1'\n" });
    expect(await rawKeys()).toContain("`a' is `1'");
  });

  it('refuses a writemode that is neither on nor off', async () => {
    expect(await exec('writemode yes')).toMatchObject({ code: 1, stderr: 'ERROR: ERR_CLI_INVALID_ARGUMENT: usage: writemode on|off\n' });
  });
});

describe('strata cli --exec: keys', () => {
  it('gets, sets, clears and lists keys as fdbcli prints them', async () => {
    const run = await exec('writemode on; set apple 1; set apricot 2; set banana 3; get apple; get cherry');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain("Committed: `banana' is `3'\n");
    expect(run.stdout).toContain(">>> get apple\n`apple' is `1'\n>>> get cherry\n`cherry': not found\n");

    // Without END, getrange lists the keys that start with BEGIN (fdbcli's strinc); "" lists all.
    expect((await exec('getrange ap')).stdout).toBe("\nRange limited to 25 keys\n`apple' is `1'\n`apricot' is `2'\n");
    expect((await exec('getrange ""')).stdout).toContain("`banana' is `3'");
    expect((await exec('getrange apple banana')).stdout).toBe("\nRange limited to 25 keys\n`apple' is `1'\n`apricot' is `2'\n");
    expect((await exec('getrange "" \\xff 2')).stdout).toBe(
      "\nRange limited to 2 keys\n`apple' is `1'\n`apricot' is `2'\n(more keys follow; raise LIMIT or continue from after the last key)\n",
    );
    expect((await exec('getrangekeys a')).stdout).toBe("\nRange limited to 25 keys\n`apple'\n`apricot'\n");

    expect((await exec('writemode on; clear apple; get apple')).stdout).toContain("Committed: cleared `apple'\n>>> get apple\n`apple': not found\n");
    expect((await exec('writemode on; clearrange a b; getrange ""')).stdout).toContain(
      "Committed: cleared `a' to `b'\n>>> getrange \"\"\n\nRange limited to 25 keys\n`banana' is `3'\n",
    );
  });

  it('round-trips escapes and quoted arguments: any byte as \\xNN, a backslash as \\\\', async () => {
    const run = await exec('writemode on; set "user 42\\x00" "Ada \\"the\\" \\\\ \\xff"; get "user 42\\x00"; getrangekeys user');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(">>> get \"user 42\\x00\"\n`user 42\\x00' is `Ada \"the\" \\\\ \\xff'\n");
    expect(run.stdout).toContain("`user 42\\x00'\n");
    // The same bytes as the one-shot command writes and reads them.
    expect((await strata(['kv', 'get', 'user 42\\x00', '--data-dir', dir])).stdout).toBe("`user 42\\x00' is `Ada \"the\" \\\\ \\xff'\n");
  });

  it('refuses a bad limit and a bad escape, by code', async () => {
    expect(await exec('getrange a b 0')).toMatchObject({ code: 1, stderr: "ERROR: ERR_CLI_INVALID_ARGUMENT: bad limit `0': give a whole number from 1 to 10000\n" });
    expect((await exec('get k\\q')).stderr).toMatch(/^ERROR: ERR_CLI_INVALID_ARGUMENT: invalid escape/);
    expect((await exec('getrange \\xff\\xff')).stderr).toMatch(/^ERROR: ERR_CLI_INVALID_ARGUMENT: a BEGIN of only \\xff bytes/);
  });
});

describe('strata cli --exec: tenants', () => {
  it('creates, lists, gets, renames and deletes tenants', async () => {
    const made = await exec('writemode on; tenant create acme; tenant create "globex corp"');
    expect(made.stdout).toContain("The tenant `acme' has been created with id 0000000000000001\n");
    expect(made.stdout).toContain("The tenant `globex corp' has been created with id 0000000000000002\n");
    expect((await exec('tenant list')).stdout).toBe('  1. acme\t(id 0000000000000001)\n  2. globex corp\t(id 0000000000000002)\n');
    expect((await exec('tenant list "" "" 1')).stdout).toBe("  1. acme\t(id 0000000000000001)\n(more tenants follow; list from after `acme' to see them)\n");
    expect((await exec('tenant list b')).stdout).toBe('  1. globex corp\t(id 0000000000000002)\n');
    expect((await exec('tenant get acme')).stdout).toBe('name: acme\nid: 0000000000000001\nprefix: fd0000000000000001\n');
    expect(JSON.parse((await exec('tenant get acme JSON')).stdout)).toEqual({ name: 'acme', id: '0000000000000001' });
    expect((await exec('status')).stdout).toBe(`Engine: embedded (${dir})\nTenants: 2\n`);

    expect((await exec('writemode on; tenant rename acme initech')).stdout).toContain("The tenant `acme' has been renamed to `initech'\n");
    const refused = await exec('writemode on; usetenant initech; set k v; tenant delete initech');
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/^ERROR: ERR_TENANT_NOT_EMPTY: /) });
    const forced = await exec('writemode on; usetenant initech; tenant delete initech force');
    expect(forced.stdout).toContain("The tenant `initech' has been deleted\nWARNING: the active tenant was deleted.");
    expect((await exec('tenant list')).stdout).toBe('  1. globex corp\t(id 0000000000000002)\n');
  });

  it('keeps each tenant’s keys to itself: usetenant and defaulttenant switch keyspaces', async () => {
    await exec('writemode on; tenant create a; tenant create b');
    const run = await exec('writemode on; usetenant a; set k in-a; defaulttenant; get k; usetenant b; get k; usetenant a; get k; usetenant');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        '>>> writemode on',
        '>>> usetenant a',
        "Using tenant `a'",
        '>>> set k in-a',
        "Committed: `k' is `in-a'",
        '>>> defaulttenant',
        'Using the default tenant',
        '>>> get k',
        "`k': not found",
        '>>> usetenant b',
        "Using tenant `b'",
        '>>> get k',
        "`k': not found",
        '>>> usetenant a',
        "Using tenant `a'",
        '>>> get k',
        "`k' is `in-a'",
        '>>> usetenant',
        "Using tenant `a'",
        '',
      ].join('\n'),
    );
    // In the raw keyspace the key lives only under tenant a's prefix, never at its bare name.
    expect(await rawKeys()).toBe('\nRange limited to 25 keys\n');
    expect((await strata(['kv', 'get', '--tenant', 'a', 'k', '--data-dir', dir])).stdout).toBe("`k' is `in-a'\n");
    // A session follows its tenant through a rename.
    expect((await exec('writemode on; usetenant a; tenant rename a a2; get k')).stdout).toContain("Using tenant `a2'\n>>> get k\n`k' is `in-a'\n");
  });

  it('refuses to use a tenant that does not exist, and runs nothing after the failure', async () => {
    await exec('writemode on; set keep me');
    const run = await exec('writemode on; usetenant ghost; clearrange "" \\xff');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('ERROR: ERR_TENANT_NOT_FOUND: no tenant is called "ghost"\n');
    expect(run.stdout).toBe('>>> writemode on\n>>> usetenant ghost\nWARNING: the previous command failed, the remaining commands will not be executed.\n');
    expect(await rawKeys()).toContain("`keep' is `me'");
  });

  it('reports registry errors by code', async () => {
    await exec('writemode on; tenant create acme');
    expect(await exec('writemode on; tenant create acme')).toMatchObject({ code: 1, stderr: 'ERROR: ERR_TENANT_EXISTS: a tenant called "acme" already exists\n' });
    expect((await exec('tenant get nobody')).stderr).toMatch(/^ERROR: ERR_TENANT_NOT_FOUND: /);
    expect((await exec('writemode on; tenant create a\\x0ab')).stderr).toMatch(/^ERROR: ERR_TENANT_NAME_INVALID: /);
    expect((await exec('tenant get \\xff')).stderr).toMatch(/^ERROR: ERR_TENANT_NAME_INVALID: .*not valid UTF-8/);
    expect((await exec('tenant delete acme now')).stderr).toBe('ERROR: writemode must be enabled to set or clear keys in the database.\n');
    expect((await exec('writemode on; tenant delete acme now')).stderr).toBe("ERROR: ERR_CLI_INVALID_ARGUMENT: expected `force' or nothing, got `now'\n");
  });
});

describe('strata cli --exec: the shell itself', () => {
  it('lists every command with help, and explains one', async () => {
    const help = await exec('help');
    expect(help.code).toBe(0);
    for (const usage of [
      'get KEY',
      'set KEY VALUE',
      'clear KEY',
      'getrange BEGIN [END] [LIMIT]',
      'getrangekeys BEGIN [END] [LIMIT]',
      'clearrange BEGIN END',
      'tenant create NAME',
      'tenant delete NAME [force]',
      'tenant list [BEGIN] [END] [LIMIT]',
      'tenant get NAME [JSON]',
      'tenant rename OLD NEW',
      'usetenant [NAME]',
      'defaulttenant',
      'writemode on|off',
      'status',
      'help [COMMAND]',
      'exit',
      'quit',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${usage.replace(/[[\]|]/g, '\\$&')} +\\S`, 'm'));
    }
    expect((await exec('help set')).stdout).toBe('set KEY VALUE\n\n  set KEY to VALUE\n  (a write: needs `writemode on`)\n');
    expect((await exec('help tenant')).stdout).toContain('tenant rename OLD NEW');
    expect((await exec('help escaping')).stdout).toContain('\\xNN');
    expect(await exec('help nothing')).toMatchObject({ code: 1, stderr: "ERROR: ERR_CLI_INVALID_ARGUMENT: no command `nothing'; type `help' for the list\n" });
  });

  it('answers an unknown command, a wrong argument count and an open quote with an error and exit code 1', async () => {
    expect(await exec('fetch a')).toMatchObject({ code: 1, stdout: '', stderr: "ERROR: Unknown command `fetch'. Try `help'?\n" });
    expect(await exec('get')).toMatchObject({ code: 1, stderr: 'ERROR: ERR_CLI_INVALID_ARGUMENT: usage: get KEY\n' });
    expect(await exec('get a b')).toMatchObject({ code: 1, stderr: 'ERROR: ERR_CLI_INVALID_ARGUMENT: usage: get KEY\n' });
    expect((await exec('tenant')).stderr).toBe("ERROR: ERR_CLI_INVALID_ARGUMENT: usage: tenant create|delete|list|get|rename …; type `help tenant' for details\n");
    expect(await exec('get "a')).toMatchObject({ code: 1, stderr: 'ERROR: ERR_CLI_INVALID_ARGUMENT: unterminated quote: close it with "\n' });
  });

  it('stops at exit, running nothing after it', async () => {
    const run = await exec('writemode on; exit; set a 1');
    expect(run).toMatchObject({ code: 0, stdout: '>>> writemode on\n>>> exit\n' });
    expect(await rawKeys()).toBe('\nRange limited to 25 keys\n');
  });

  it('explains itself with --help, and runs the README’s example as written, printing what the README shows', async () => {
    const help = await strata(['cli', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: strata cli \[options\]/);
    expect(help.stdout).toContain('--exec <commands>');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### The shell (`strata cli`)'));
    const [, commands, shown] = /npx strata cli --exec '([^']*)'\n((?:# .*\n)+)/.exec(section) ?? [];
    expect(commands).toBeDefined();
    expect((await exec(commands as string)).stdout).toBe((shown as string).replace(/^# /gm, ''));
  });

  it('fails like every command on a directory holding no store', async () => {
    const run = await strata(['cli', '--data-dir', `${dir}/typo`, '--exec', 'status']);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/^strata: ERR_KV_STORE_NOT_FOUND: /);
  });
});
