import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { call } from './harness.js';

const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));

/** Start `strata serve` in `cwd` and wait for its listening line. */
function serve(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ proc: ChildProcess; url: string; stderr: () => string; stdout: () => string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [bin, 'serve', '--listen', '127.0.0.1:0', ...args], { cwd, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Strata listening on (https:\/\/[^"\s]+)/.exec(out);
      if (m) resolve({ proc, url: m[1] as string, stderr: () => err, stdout: () => out });
    });
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.once('exit', code => reject(new Error(`serve exited with ${String(code)}: ${err}`)));
  });
}

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const exited = (proc: ChildProcess) => new Promise<number | null>(resolve => proc.once('exit', code => resolve(code)));

describe('strata serve', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  it('starts with no configuration: makes development certificates and a key, prints how to use them once, and stops cleanly on SIGTERM', async () => {
    const { dir, remove } = await tempDir('strata-serve');
    cleanup.push(remove);
    const first = await serve(dir, []);
    const port = Number(new URL(first.url).port);
    const ca = join(dir, 'certs/dev/ca.pem');
    expect(await call(port, 'GET', '/healthz', { ca })).toMatchObject({ status: 200, body: { status: 'ok' } });
    const operator = { cert: join(dir, 'certs/dev/operator.pem'), key: join(dir, 'certs/dev/operator.key') };
    expect((await call(port, 'POST', '/v1/admin/tenants', { ca, client: operator, body: { name: 'acme' } })).status).toBe(201);
    // Wait for the guide, written after the listening line.
    for (let i = 0; i < 50 && !first.stderr().includes('curl'); i++) await new Promise(r => setTimeout(r, 20));
    expect(first.stderr()).toContain('strata token mint --key certs/dev/dev.private.jwk.json --tenants acme');
    expect(existsSync(join(dir, 'certs/dev/dev.private.jwk.json'))).toBe(true);
    first.proc.kill('SIGTERM');
    expect(await exited(first.proc)).toBe(0);
    expect(first.stdout()).toContain('shutting down');

    // Second start: material reused, no guide, data kept.
    const second = await serve(dir, []);
    cleanup.push(async () => void second.proc.kill('SIGKILL'));
    const port2 = Number(new URL(second.url).port);
    expect((await call(port2, 'GET', '/v1/admin/tenants/acme', { ca, client: operator })).status).toBe(200);
    await new Promise(r => setTimeout(r, 100));
    expect(second.stderr()).not.toContain('curl');
    second.proc.kill('SIGTERM');
    expect(await exited(second.proc)).toBe(0);
  }, 60_000);

  it('takes knobs from the environment (tokenless access here)', async () => {
    const { dir, remove } = await tempDir('strata-serve');
    cleanup.push(remove);
    const s = await serve(dir, [], { STRATA_KNOB_ALLOW_TOKENLESS_TENANT_ACCESS: 'true' });
    cleanup.push(async () => void s.proc.kill('SIGKILL'));
    const port = Number(new URL(s.url).port);
    const ca = join(dir, 'certs/dev/ca.pem');
    const operator = { cert: join(dir, 'certs/dev/operator.pem'), key: join(dir, 'certs/dev/operator.key') };
    await call(port, 'POST', '/v1/admin/tenants', { ca, client: operator, body: { name: 'open' } });
    const reply = await call(port, 'POST', '/v1/tenants/open/transact', { ca, body: { ops: [{ op: 'get', key: 'AA==' }] } });
    expect(reply.status).toBe(200);
  }, 60_000);

  it('re-reads the key set on SIGHUP: a token whose key left the file is refused (and metrics, on their own listener, count it)', async () => {
    const { dir, remove } = await tempDir('strata-serve');
    cleanup.push(remove);
    const metricsPort = await freePort();
    const s = await serve(dir, ['--metrics-listen', `127.0.0.1:${metricsPort}`]);
    cleanup.push(async () => void s.proc.kill('SIGKILL'));
    const port = Number(new URL(s.url).port);
    const ca = join(dir, 'certs/dev/ca.pem');
    const operator = { cert: join(dir, 'certs/dev/operator.pem'), key: join(dir, 'certs/dev/operator.key') };
    await call(port, 'POST', '/v1/admin/tenants', { ca, client: operator, body: { name: 'acme' } });
    const { mintToken } = await import('../../src/cli/commands/token.js');
    const key = JSON.parse(await readFile(join(dir, 'certs/dev/dev.private.jwk.json'), 'utf8')) as Record<string, string>;
    const token = await mintToken({ key, tenants: ['acme'], ttlSeconds: 3600 });
    const body = { ops: [{ op: 'get', key: 'AA==' }] };
    expect((await call(port, 'POST', '/v1/tenants/acme/transact', { ca, token, body })).status).toBe(200);
    await writeFile(join(dir, 'certs/dev/jwks.json'), JSON.stringify({ keys: [] }));
    s.proc.kill('SIGHUP');
    let reply = await call(port, 'POST', '/v1/tenants/acme/transact', { ca, token, body });
    for (let i = 0; i < 50 && reply.status === 200; i++) {
      await new Promise(r => setTimeout(r, 20));
      reply = await call(port, 'POST', '/v1/tenants/acme/transact', { ca, token, body });
    }
    expect(reply).toMatchObject({ status: 401, body: { error: { code: 'ERR_AUTH_TOKEN_INVALID' } } });
    // Plain HTTP on the loopback metrics listener, no client certificate needed.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^strata_key_set_reloads_total [1-9]/m);
    expect(metrics).toMatch(/^strata_http_requests_total\{route="\/v1\/tenants\/:tenant\/transact",method="POST",status="200",tenant="(acme|other)"\} [1-9]/m);
    expect(metrics).toMatch(/^strata_auth_denied_total\{reason="ERR_AUTH_TOKEN_INVALID"\} [1-9]/m);
    expect(metrics).toMatch(/^strata_process_cpu_seconds_total /m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
  }, 60_000);

  it('refuses a bad knob with one line and exit code 2', async () => {
    const proc = spawn(process.execPath, [bin, 'serve', '--knob_token_cache_size=lots']);
    let err = '';
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    expect(await exited(proc)).toBe(2);
    expect(err).toBe('strata: ERR_CLI_INVALID_ARGUMENT: knob token_cache_size takes a whole number, got "lots"\n');
  });

  it('prints every flag and knob for --help', async () => {
    const proc = spawn(process.execPath, [bin, 'serve', '--help']);
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    expect(await exited(proc)).toBe(0);
    expect(out).toContain('--knob_bad_certificate_throttle_seconds=9');
    expect(out).toContain('--authorization-public-key-file FILE');
  });

});
