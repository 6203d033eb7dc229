import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StrataError } from '../../errors.js';

/**
 * An exclusive claim on a data directory. The embedded engine keeps its conflict history in
 * memory, so two processes writing one LMDB environment would each miss the other's commits and
 * break serializability; LMDB itself would allow it.
 *
 * On Linux the claim is an abstract Unix socket named after the directory's real path: binding it
 * is atomic and exclusive, and the kernel frees it the moment its holder dies, `kill -9` included,
 * so there is no stale lock to judge and no race in taking one over. Node has no `flock`; this is
 * the kernel-enforced lock it does offer. (Abstract sockets are per network namespace: processes in
 * different containers sharing a volume do not see each other's claim.)
 *
 * Elsewhere the claim is the lock file itself, created atomically with `link()`; a file naming a
 * process that is gone is taken over. On Linux the same file is written too, only to say who holds
 * the directory.
 */
export interface DataDirLock {
  release(): Promise<void>;
}

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly start: string | null;
}

export const LOCK_FILE_NAME = 'strata.lock';

/** Claim `dir`, or throw `ERR_KV_DATA_DIR_LOCKED` naming the process that holds it. */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = join(dir, LOCK_FILE_NAME);
  const me = JSON.stringify({ pid: process.pid, host: hostname(), start: processStart(process.pid) } satisfies Owner);
  if (process.platform === 'linux') {
    const socket = await bindAbstract(`\0strata-data-dir-${createHash('sha256').update(await realpath(dir)).digest('hex')}`);
    if (socket === null) throw await locked(dir, path);
    await writeFile(path, me);
    return {
      async release() {
        if ((await readFile(path, 'utf8').catch(() => null)) === me) await unlink(path).catch(() => {});
        await new Promise<void>(resolve => socket.close(() => resolve()));
      },
    };
  }
  return lockWithFile(dir, path, me);
}

/** Bind an abstract socket; null when another holder has it. */
function bindAbstract(name: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(null) : reject(err)));
    server.listen(name, () => {
      // The claim must not keep the process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

async function lockWithFile(dir: string, path: string, me: string): Promise<DataDirLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written whole under a private name, then linked into place: the lock file is never empty.
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(temp, me);
    try {
      await link(temp, path);
      return {
        async release() {
          if ((await readFile(path, 'utf8').catch(() => null)) === me) await unlink(path).catch(() => {});
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(temp).catch(() => {});
    }
    const held = await readFile(path, 'utf8').catch(() => '');
    const owner = parseOwner(held);
    if (owner !== null && isAlive(owner)) throw await locked(dir, path);
    // Take over a dead owner's file only if it is still the file we judged.
    if ((await readFile(path, 'utf8').catch(() => '')) === held) await unlink(path).catch(() => {});
  }
  throw await locked(dir, path);
}

async function locked(dir: string, path: string): Promise<StrataError> {
  const owner = parseOwner(await readFile(path, 'utf8').catch(() => ''));
  const who = owner === null ? 'another process' : `process ${owner.pid} on ${owner.host}`;
  return new StrataError('ERR_KV_DATA_DIR_LOCKED', `data directory ${dir} is in use by ${who}`, {
    details: { dir, ...(owner === null ? {} : { pid: owner.pid, host: owner.host }) },
  });
}

function parseOwner(text: string): Owner | null {
  try {
    const v = JSON.parse(text) as Partial<Owner>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return null;
    return { pid: v.pid, host: v.host, start: typeof v.start === 'string' ? v.start : null };
  } catch {
    return null;
  }
}

function isAlive(owner: Owner): boolean {
  // A lock from another host (a shared filesystem) cannot be checked: respect it.
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStart(owner.pid);
  return owner.start === null || start === null || start === owner.start;
}

/** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
