import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/kv/open.js';
import { tempDir } from '../helpers/tmp.js';
import { pointsOf, seedTenant, storeDump, tenantDump } from './fixtures.js';

const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
const strata = (args: string[], cwd?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>(resolve =>
    execFile(process.execPath, [bin, ...args], { ...(cwd === undefined ? {} : { cwd }) }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    ),
  );

describe('strata snapshot and strata backup on a data directory', () => {
  let dir: string;
  let data: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir('strata-snapshot-cli'));
    data = join(dir, 'data');
    const db = await openDatabase({ dataDir: data });
    await seedTenant(db, 'acme', { points: 200 });
    await db.close();
  }, 120_000);
  afterAll(async () => remove());

  it('creates tenant and collection snapshots, with plain progress lines when stderr is not a terminal', async () => {
    const run = await strata(['snapshot', 'create', '--tenant', 'acme', '--output', join(dir, 'acme.snapshot'), '--data-dir', data]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Snapshot of tenant `acme' written to .*acme\.snapshot: 200 points, [\d.]+ KiB\n$/);
    const lines = run.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toMatch(/^snapshot of tenant acme: [\d.]+ (B|KiB|MiB), [\d,]+ points, [\d.]+ (B|KiB|MiB)\/s, \d+s elapsed(: done)?$/);
    expect(lines.at(-1)).toMatch(/200 points.*: done$/);
    expect(lines.join('')).not.toContain('\r');

    const col = await strata(['snapshot', 'create', '--tenant', 'acme', '--collection', 'docs', '--json', '--data-dir', data], dir);
    expect(col.code).toBe(0);
    const made = JSON.parse(col.stdout) as { file: string; kind: string; points: number };
    expect(made).toMatchObject({ kind: 'collection', collection: 'docs', points: 200, consistent: true, complete: true });
    expect(made.file).toMatch(/^docs-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot$/);
    expect(await readdir(dir)).toContain(made.file);
  });

  it('lists snapshot files from their headers and trailers, and says which files are not snapshots', async () => {
    await writeFile(join(dir, 'junk.snapshot'), 'not a snapshot');
    const run = await strata(['snapshot', 'list', dir, '--json']);
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(rows.find(r => String(r['file']).endsWith('acme.snapshot'))).toMatchObject({ kind: 'tenant', tenant: 'acme', points: 200, consistent: true, complete: true, engine: 'embedded' });
    expect(rows.find(r => String(r['file']).includes('docs-'))).toMatchObject({ kind: 'collection', tenant: 'acme', collection: 'docs', points: 200 });
    expect(rows.find(r => String(r['file']).endsWith('junk.snapshot'))).toEqual({ file: join(dir, 'junk.snapshot'), error: 'ERR_SNAPSHOT_INVALID' });
    const text = await strata(['snapshot', 'list', join(dir, 'acme.snapshot')]);
    expect(text.stdout).toMatch(/acme\.snapshot\ttenant acme\t\d{4}-.*\t[\d.]+ KiB\t200 points\tconsistent\n$/);
  });

  it('restores into a new tenant with progress (bytes of the total, points, rate, time left), equal point for point', async () => {
    const run = await strata(['snapshot', 'restore', join(dir, 'acme.snapshot'), '--tenant', 'copy', '--data-dir', data]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`Restored tenant \`copy' from ${join(dir, 'acme.snapshot')}: 200 points (created)\n`);
    const lines = run.stderr.trim().split('\n');
    for (const line of lines) expect(line).toMatch(/^restore .*acme\.snapshot: [\d.]+ (B|KiB|MiB) of [\d.]+ KiB \(\d+%\), [\d,]+ points, [\d.]+ (B|KiB|MiB)\/s, \d+s left(: done)?$/);
    expect(lines.at(-1)).toMatch(/\(100%\), 200 points, .*: done$/);
    const db = await openDatabase({ dataDir: data });
    try {
      expect(await tenantDump(db, 'copy')).toEqual(await tenantDump(db, 'acme'));
      expect(await pointsOf(db, 'copy')).toEqual(await pointsOf(db, 'acme'));
    } finally {
      await db.close();
    }
  });

  it('refuses a corrupt file with its code and changes nothing', async () => {
    const good = await readFile(join(dir, 'acme.snapshot'));
    const bad = Buffer.from(good);
    const at = Math.floor(bad.length / 2);
    bad[at] = (bad[at] as number) ^ 1;
    await writeFile(join(dir, 'bad.snapshot'), bad);
    let db = await openDatabase({ dataDir: data });
    const before = await storeDump(db);
    await db.close();
    const run = await strata(['snapshot', 'restore', join(dir, 'bad.snapshot'), '--tenant', 'acme', '--data-dir', data]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^strata: ERR_SNAPSHOT_INVALID: not a valid Strata snapshot: a frame’s crc32 does not match its bytes \(check "checksum" at byte \d+\)\n$/m);
    db = await openDatabase({ dataDir: data });
    try {
      expect(await storeDump(db)).toEqual(before);
    } finally {
      await db.close();
    }
  });

  it('backs the whole store up into a directory that opens as a store of its own', async () => {
    const out = join(dir, 'backup');
    const run = await strata(['backup', '--output', out, '--data-dir', data]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Backup written to .*backup \([\d.]+ (KiB|MiB)\); serve it with --data-dir /);
    expect((await strata(['backup', '--output', out, '--data-dir', data])).stderr).toMatch(/^strata: ERR_BACKUP_OUTPUT_EXISTS/);
    const [a, b] = [await openDatabase({ dataDir: data }), await openDatabase({ dataDir: out })];
    try {
      expect(await storeDump(b)).toEqual(await storeDump(a));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
