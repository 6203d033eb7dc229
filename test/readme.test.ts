import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** True when nothing listens on 127.0.0.1:`port`. */
const portFree = (port: number) =>
  new Promise<boolean>(resolve => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

/** The README's shell block that follows `heading` and contains `marker`. */
async function readmeBlock(heading: string, marker: string): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const block = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map(m => m[1] as string).find(b => b.includes(marker));
  if (block === undefined) throw new Error(`no sh block with ${marker} after ${heading}`);
  return block;
}

describe('the README, as a new user runs it', async () => {
  const free = await portFree(6333);
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it.skipIf(!free)('serves on the default port and answers the server section’s commands as written', async () => {
    const { dir, remove } = await tempDir('strata-readme');
    cleanup.push(remove);
    // `npx strata` in a directory of its own, as after `npm ci` in a clone.
    await mkdir(join(dir, 'node_modules/.bin'), { recursive: true });
    await symlink(join(root, 'bin/strata.js'), join(dir, 'node_modules/.bin/strata'));
    const server = spawn(process.execPath, [join(root, 'bin/strata.js'), 'serve'], { cwd: dir });
    cleanup.push(async () => {
      server.kill('SIGTERM');
      await new Promise(resolve => server.once('exit', resolve));
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('Strata listening on')) resolve();
      });
      server.once('exit', code => reject(new Error(`serve exited with ${String(code)}`)));
    });
    const block = await readmeBlock('## The server', 'token mint');
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      execFile('bash', ['-e', '-c', block], { cwd: dir }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout }))),
    );
    expect(stdout).toContain("The tenant `acme' has been created");
    expect(stdout).toContain('{"results":[{},{"value":"d29ybGQ="}],"committed":true}');
    expect(stdout).toContain('"engine":"embedded"');
    const qdrant = await readmeBlock('## Coming from Qdrant', 'points/query');
    const answer = await new Promise<string>((resolve, reject) =>
      execFile('bash', ['-e', '-c', qdrant], { cwd: dir }, (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out))),
    );
    expect(answer).toContain('"result":true');
    expect(answer).toContain('"status":"completed"');
    expect(answer).toMatch(/"points":\[\{"id":1,"version":0,"score":1,"payload":\{"city":"Berlin"\}\}\]/);

    // Operations, in the order the README gives them: strict mode on docs, a tenant's limits,
    // snapshots and a backup through the running server, metrics.
    const run = (block: string) =>
      new Promise<string>((resolve, reject) => execFile('bash', ['-e', '-c', block], { cwd: dir }, (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out))));
    expect(await run(await readmeBlock('### Limits', 'X PATCH'))).toContain('"result":true');
    const limits = await run(await readmeBlock('### Limits', 'tenant limits'));
    expect(limits).toContain('write_rate_limit: 6000\nmax_points: 1000000');
    expect(limits).toContain('points: 1\n');
    const strict = await run(`${qdrant.split('\n')[0]}\ncurl -s --cacert certs/dev/ca.pem -H "api-key: $TOKEN" -H 'content-type: application/json' https://localhost:6333/collections/docs/points/query -d '{"query": [1, 0, 0], "limit": 101}'`);
    expect(strict).toContain('Bad request: Strict mode error: Limit exceeded 101 > 100 for \\"limit\\"');
    const snapshots = await run(await readmeBlock('### Snapshots and backups', 'snapshot create'));
    expect(snapshots).toMatch(/acme\.snapshot/);
    expect(snapshots).toMatch(/Restored tenant `acme-copy' from acme\.snapshot: 1 points \(created\)/);
    const metrics = await run(await readmeBlock('### Metrics', '/metrics'));
    expect(metrics).toMatch(/^strata_http_requests_total\{/m);

    // Credentials: an API key, exchanged for a token that runs a transaction, and sent as api-key.
    const credentials = await run(await readmeBlock('## Credentials', 'apikey create'));
    expect(credentials).toContain('{"results":[{"value":"d29ybGQ="}],"committed":true}');
    expect(credentials).toMatch(/"collections":\[\{"name":"docs"\}/);
  }, 120_000);
});
