import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/kv/open.js';
import { readU64 } from '../../helpers/bytes.js';
import { tempDir } from '../../helpers/tmp.js';

const child = fileURLToPath(new URL('./crash-child.mjs', import.meta.url));
const built = fileURLToPath(new URL('../../../dist/src/index.js', import.meta.url));

/** Run the child until it has acknowledged about `target` commits (or `ms` pass), then SIGKILL it. */
function runAndKill(dir: string, start: number, killAfterMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir, String(start), '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let buffered = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
        else if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (${String(signal)}): ${stderr}`));
      else resolve(acked);
    });
  });
}

describe('embedded engine: kill -9', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => ({ dir, remove } = await tempDir('strata-crash')));
  afterAll(async () => remove());

  it('keeps every acknowledged commit across 12 SIGKILLs at random points, and reopens cleanly', async () => {
    expect(existsSync(built), 'the crash test runs the built library: run `npm run build` first').toBe(true);
    let start = 0;
    let totalAcked = 0;
    // Seeded kill points between 30 and 300 ms after the child is ready.
    let seed = 7;
    for (let cycle = 0; cycle < 12; cycle++) {
      seed = (seed * 48271) % 2147483647;
      const acked = await runAndKill(dir, start, 30 + (seed % 270));
      totalAcked += acked.length;
      const db = await openDatabase({ dataDir: dir });
      try {
        const { missing, count, highest } = await db.transact(async tx => {
          const missing: number[] = [];
          for (const n of acked) {
            const v = await tx.get(Buffer.from(`n/${String(n).padStart(10, '0')}`));
            if (v === undefined || Buffer.from(v).toString() !== String(n)) missing.push(n);
          }
          const { kvs } = await tx.getRange(Buffer.from('n/'), Buffer.from('n0'), { reverse: true, limit: 1 });
          const highest = kvs[0] === undefined ? -1 : Number(Buffer.from(kvs[0].value).toString());
          return { missing, count: readU64(await tx.get(Buffer.from('count'))), highest };
        });
        expect(missing, `cycle ${cycle}: acknowledged commits lost`).toEqual([]);
        // Every commit that landed (acknowledged or not) incremented the counter in the same transaction.
        const { kvs } = await db.transact(tx => tx.getRange(Buffer.from('n/'), Buffer.from('n0')));
        expect(count).toBe(BigInt(kvs.length));
        start = Math.max(start, highest + 1) + 1000;
      } finally {
        await db.close();
      }
    }
    expect(totalAcked).toBeGreaterThan(100);
  }, 120_000);
});
