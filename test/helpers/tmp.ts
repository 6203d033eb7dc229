import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory; remove it with the returned function. */
export async function tempDir(label = 'strata'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
