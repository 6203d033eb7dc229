// Commits numbered transactions on the embedded engine and reports each acknowledgement on stdout,
// so the crash test can kill this process at any point and check every acknowledged commit.
// Runs the built library (dist/), as a real server process would.
import { openDatabase } from '../../../dist/src/index.js';

const [dir, startArg, writersArg] = process.argv.slice(2);
const db = await openDatabase({ dataDir: dir });
let next = Number(startArg);
const key = n => Buffer.from(`n/${String(n).padStart(10, '0')}`);

async function writer() {
  for (;;) {
    const n = next++;
    await db.transact(async tx => {
      tx.set(key(n), Buffer.from(String(n)));
      tx.add(Buffer.from('count'), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]));
    });
    process.stdout.write(`ack ${n}\n`);
  }
}
process.stdout.write('ready\n');
await Promise.all(Array.from({ length: Number(writersArg) }, writer));
