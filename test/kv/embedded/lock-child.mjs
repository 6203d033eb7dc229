// Tries to open a data directory, holds it for a while if it can, and reports which: the lock
// test starts several of these at once.
import { openDatabase } from '../../../dist/src/index.js';

const [dir, holdMs] = process.argv.slice(2);
try {
  const db = await openDatabase({ dataDir: dir });
  process.stdout.write('acquired\n');
  await new Promise(resolve => setTimeout(resolve, Number(holdMs)));
  await db.close();
} catch (err) {
  process.stdout.write(`${err.code ?? err.message}\n`);
}
