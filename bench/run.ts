import { benchAuth } from './auth.js';
import { benchKv } from './kv.js';
import { benchOps } from './ops.js';
import { benchCredentials } from './credentials.js';
import { benchRecords } from './records.js';
import { benchVectors } from './vectors.js';

/**
 * `npm run bench -- NAME [--quick]`: run one benchmark. Each prints a table and, as its last line,
 * one JSON object `{"bench": NAME, ...}` (DESIGN §9). `--quick` runs a smaller version in under
 * two minutes with the same keys.
 */
const BENCHES: Record<string, (quick: boolean) => Promise<void>> = { kv: benchKv, auth: benchAuth, records: benchRecords, vectors: benchVectors, ops: benchOps, credentials: benchCredentials };

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const name = args.find(a => !a.startsWith('--'));
if (name === undefined || !(name in BENCHES)) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--quick]`);
  process.exitCode = 2;
} else {
  await BENCHES[name]!(quick);
}
