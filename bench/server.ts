import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DevCertificates } from '../src/server/dev-certs.js';

/** The URL from the server's "Strata listening on …" log line. */
export function listeningUrl(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const stdout = server.stdout;
    stdout?.setEncoding('utf8');
    const onData = (chunk: string) => {
      seen += chunk;
      const m = /Strata listening on (https:\/\/[^"\s]+)/.exec(seen);
      if (m === null) return;
      // From here on the log is drained unread: parsing it would load this process, which makes the load.
      stdout?.off('data', onData);
      stdout?.resume();
      resolve(m[1] as string);
    };
    stdout?.on('data', onData);
    server.once('exit', code => reject(new Error(`the server exited (${String(code)}) before listening`)));
  });
}

/** True on Linux with `taskset` and at least two cores. */
export async function pinnable(): Promise<boolean> {
  if (process.platform !== 'linux' || (await import('node:os')).availableParallelism() < 2) return false;
  return new Promise(resolve => execFile('taskset', ['-p', String(process.pid)], err => resolve(err === null)));
}

/** Pin this process (the load generator) to `core`. */
export function pinSelf(core: number): Promise<void> {
  return new Promise(resolve => execFile('taskset', ['-cp', String(core), String(process.pid)], () => resolve()));
}

/**
 * Start `strata serve` in a process of its own on a fresh data directory under `dir`, on core 0
 * when `pin` (the load generator takes core 1), with `extra` flags; resolves with it and its URL.
 */
export async function spawnServer(dir: string, certs: DevCertificates, pin: boolean, extra: readonly string[]): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(
    pin ? 'taskset' : process.execPath,
    [
      ...(pin ? ['-c', '0', process.execPath] : []),
      'bin/strata.js', 'serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'),
      '--tls-certificate-file', certs.serverCert, '--tls-key-file', certs.serverKey, '--tls-ca-file', certs.caCert,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } },
  );
  return { server, url: await listeningUrl(server) };
}
