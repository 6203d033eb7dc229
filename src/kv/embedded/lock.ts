import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StrataError } from '../../errors.js';

/**
 * An exclusive claim on a data directory. The embedded engine keeps its conflict history in
 * memory, so two processes writing one LMDB environment would each miss the other's commits and
 * break serializability; LMDB itself would allow it. Node has no `flock`, so the claim is a lock
 * file holding the owner's pid and process start time: a file left by a process that died
 * (`kill -9`) names a pid that is gone, or now belongs to a process that started later, and is
 * taken over.
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
  const me: Owner = { pid: process.pid, host: hostname(), start: processStart(process.pid) };
  const text = JSON.stringify(me);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      await handle.writeFile(text);
      await handle.close();
      return {
        async release() {
          // Only remove the file if it is still ours.
          const now = await readFile(path, 'utf8').catch(() => null);
          if (now === text) await unlink(path).catch(() => {});
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = parseOwner(await readFile(path, 'utf8').catch(() => ''));
    if (owner !== null && isAlive(owner)) {
      throw new StrataError('ERR_KV_DATA_DIR_LOCKED', `data directory ${dir} is in use by process ${owner.pid} on ${owner.host}`, {
        details: { dir, pid: owner.pid, host: owner.host },
      });
    }
    await unlink(path).catch(() => {});
  }
  throw new StrataError('ERR_KV_DATA_DIR_LOCKED', `data directory ${dir} was claimed by another process while opening it`, {
    details: { dir },
  });
}

function parseOwner(text: string): Owner | null {
  try {
    const v = JSON.parse(text) as Partial<Owner>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return null;
    return { pid: v.pid, host: v.host, start: typeof v.start === 'string' ? v.start : null };
  } catch {
    return null; // a half-written file from a process that died while claiming
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
