import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../src/kv/open.js';
import type { Database } from '../../src/kv/types.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The engines the conformance suite runs against: the embedded engine always, FoundationDB when
 * FDB_CLUSTER_FILE names a cluster file.
 */
export interface EngineUnderTest {
  readonly name: string;
  /** The MVCC window this engine was opened with, so the too-old test knows how long to wait. */
  readonly mvccWindowMs: number;
  /** Open a database and a key prefix no other test uses; `done` removes what the test wrote. */
  open(): Promise<{ db: Database; prefix: Uint8Array; done: () => Promise<void> }>;
}

const clusterFile = process.env['FDB_CLUSTER_FILE'];

export const FDB_SKIP_REASON = clusterFile
  ? undefined
  : 'FoundationDB conformance skipped: set FDB_CLUSTER_FILE to a cluster file (docker-compose.yml runs one) to run it';

const embedded: EngineUnderTest = {
  name: 'embedded',
  mvccWindowMs: 400,
  async open() {
    const { dir, remove } = await tempDir('strata-conformance');
    const db = await openDatabase({ dataDir: dir, mvccWindowMs: 400 });
    return {
      db,
      prefix: new Uint8Array(0),
      done: async () => {
        await db.close();
        await remove();
      },
    };
  },
};

const foundationdb: EngineUnderTest = {
  name: 'foundationdb',
  mvccWindowMs: 5_000,
  async open() {
    const db = await openDatabase({ clusterFile: clusterFile as string });
    // Tests share the cluster: each works under its own random prefix and clears it afterwards.
    const prefix = Buffer.concat([Buffer.from('strata-conformance/'), randomBytes(8), Buffer.from('/')]);
    return {
      db,
      prefix,
      done: async () => {
        const end = Buffer.from(prefix);
        end[end.length - 1] = (end[end.length - 1] as number) + 1;
        await db.transact(async tx => tx.clearRange(prefix, end));
        await db.close();
      },
    };
  },
};

export const ENGINES: readonly EngineUnderTest[] = clusterFile ? [embedded, foundationdb] : [embedded];
