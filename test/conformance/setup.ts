import { afterEach, beforeEach, describe, it } from 'vitest';
import { concatBytes } from '../../src/kv/keys.js';
import type { Database } from '../../src/kv/types.js';
import { enc } from '../helpers/bytes.js';
import { ENGINES, FDB_SKIP_REASON, type EngineUnderTest } from './engines.js';

/** What each conformance test gets: a database, and `k()` to make keys under its own prefix. */
export interface Ctx {
  db: Database;
  prefix: Uint8Array;
  k(key: string | Uint8Array): Uint8Array;
}

/** Declare a block of conformance tests, run once per engine with a fresh database per test. */
export function conformance(title: string, body: (ctx: Ctx, engine: EngineUnderTest) => void): void {
  const skipReason = FDB_SKIP_REASON;
  if (skipReason !== undefined) {
    // Visible in the run as a skipped test that says why, not silently absent.
    describe(`${title} [foundationdb]`, () => {
      it.skip(skipReason, () => {});
    });
  }
  for (const engine of ENGINES) {
    describe(`${title} [${engine.name}]`, () => {
      const ctx = {} as Ctx;
      let done: () => Promise<void> = async () => {};
      beforeEach(async () => {
        const opened = await engine.open();
        ctx.db = opened.db;
        ctx.prefix = opened.prefix;
        ctx.k = key => concatBytes(opened.prefix, typeof key === 'string' ? enc(key) : key);
        done = opened.done;
      });
      afterEach(async () => done());
      body(ctx, engine);
    });
  }
}
