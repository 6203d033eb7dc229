import { pages } from '../../src/kv/pages.js';
import type { Database, Transaction } from '../../src/kv/types.js';
import { listTenants } from '../../src/tenancy/registry.js';
import { TenantTransaction } from '../../src/tenancy/scoped.js';
import { openCollectionById, type Collection } from '../record/collections.js';
import { VECTORS_PENDING } from '../record/layout.js';
import { indexPending } from './vector-index.js';
import { WriterMemos } from './writer-memos.js';

/**
 * The background indexer: finds collections with vector changes pending (in every tenant) and
 * links them into their graphs, a batch per transaction, until none are left. Any number of servers
 * may run one on the same store: batches that overlap conflict, and one of them retries.
 */

/** Options of {@link VectorIndexer}. */
export interface IndexerOptions {
  /** The most points linked per transaction (default 1024). */
  readonly batch?: number;
  /**
   * How long a transaction links points before it commits, in ms (default 250): a transaction
   * must stay well inside FoundationDB's five seconds, and a short one conflicts less with
   * writers; a longer one spreads the commit's cost over more points.
   */
  readonly batchMs?: number;
  /** Pause between rounds that found nothing to do, in ms (default 500). */
  readonly idleMs?: number;
  /** How much decoded vector data the indexer keeps between transactions (default 256 MiB). */
  readonly cacheBytes?: number;
  /** Told about failures (the indexer carries on). */
  readonly onError?: (err: unknown) => void;
}

export class VectorIndexer {
  readonly #db: Database;
  readonly #batch: number;
  readonly #batchMs: number;
  readonly #idleMs: number;
  readonly #onError: (err: unknown) => void;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Decoded graphs kept from batch to batch (valid while no other writer changes them). */
  readonly #memos: WriterMemos;
  #rounds: Promise<void> = Promise.resolve();
  #linked = 0;
  #backlog = 0;

  constructor(db: Database, options: IndexerOptions = {}) {
    this.#db = db;
    this.#batch = options.batch ?? 1024;
    this.#batchMs = options.batchMs ?? 250;
    this.#memos = new WriterMemos(4096, options.cacheBytes);
    this.#idleMs = options.idleMs ?? 500;
    this.#onError = options.onError ?? (() => {});
  }

  /** Start indexing in the background. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        let worked = false;
        try {
          worked = await this.runOnce();
        } catch (err) {
          this.#onError(err);
        }
        if (!worked && this.#running) await new Promise<void>(resolve => {
          const timer = setTimeout(resolve, this.#idleMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
  }

  /** Stop, after the batch in progress. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  /**
   * What the indexer has done: points linked (or unlinked) so far, and how many collections had
   * points waiting at the start of the last round (the indexing backlog).
   */
  stats(): { linked: number; backlog: number } {
    return { linked: this.#linked, backlog: this.#backlog };
  }

  /** Link everything pending now (rounds until one finds nothing): for loads and tests. */
  async drain(): Promise<void> {
    while (await this.runOnce());
  }

  /**
   * One round over every tenant's pending collections; true when it linked anything. Rounds of
   * one indexer run one at a time (`start`'s loop and a `drain` share its memos).
   */
  runOnce(): Promise<boolean> {
    const round = this.#rounds.then(() => this.#round());
    this.#rounds = round.then(
      () => undefined,
      () => undefined,
    );
    return round;
  }

  async #round(): Promise<boolean> {
    let worked = false;
    let after: string | undefined;
    let backlog = 0;
    for (;;) {
      // One transaction looks for flags in a thousand tenants (snapshot reads: a look, not a
      // claim), so an idle round over many tenants costs little.
      const { tenants, more, flagged } = await this.#db.transact(async tx => {
        const page = await listTenants(tx, { limit: 1000, ...(after === undefined ? {} : { begin: `${after}\u0000` }) });
        const found: Array<{ prefix: Uint8Array; ids: number[] }> = [];
        for (const tenant of page.tenants) {
          const ids = await pendingCollections(new TenantTransaction(tx, tenant.prefix));
          if (ids.length > 0) found.push({ prefix: tenant.prefix, ids });
        }
        return { ...page, flagged: found };
      });
      for (const { ids } of flagged) backlog += ids.length;
      this.#backlog = backlog;
      for (const { prefix, ids } of flagged) {
        for (const id of ids) if (await this.#drain(prefix, id)) worked = true;
      }
      const last = tenants[tenants.length - 1];
      if (!more || last === undefined) return worked;
      after = last.name;
    }
  }

  #inTenant<T>(prefix: Uint8Array, fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.#db.transact(tx => fn(new TenantTransaction(tx, prefix)), { retryLimit: 20 });
  }

  /** Link every pending point of collection `id`, then lower its flag; true when any was linked. */
  async #drain(prefix: Uint8Array, id: number): Promise<boolean> {
    let worked = false;
    for (;;) {
      let attemptLinked = 0; // of the attempt that committed (the callback may run more than once)
      const done = await this.#inTenant(prefix, async tx => {
        this.#memos.begin();
        const c = await openCollectionById(tx, id);
        if (c === undefined) {
          tx.clear(VECTORS_PENDING.pack([id])); // the collection was deleted
          return true;
        }
        let linked = 0;
        const deadline = performance.now() + this.#batchMs;
        for (const name of Object.keys(c.config.vectors)) {
          linked += await indexPending(tx, c, name, this.#batch - linked, this.#memos, deadline);
          if (linked >= this.#batch || performance.now() >= deadline) break;
        }
        attemptLinked = linked;
        if (linked > 0) {
          worked = true;
          return false;
        }
        // Nothing left: the flag goes, in a transaction that read every pending range as empty,
        // so a write that adds to one meanwhile makes this commit conflict and retry.
        if (await nothingPending(tx, c)) tx.clear(c.keys.pendingFlag);
        return true;
      });
      this.#memos.committed();
      this.#linked += attemptLinked;
      if (done) return worked;
    }
  }
}

/** The ids of the tenant's collections flagged as having vector changes pending. */
async function pendingCollections(tx: Transaction): Promise<number[]> {
  const { begin, end } = VECTORS_PENDING.range();
  const ids: number[] = [];
  for await (const page of pages(tx, begin, end, { limit: 1000, snapshot: true })) {
    for (const { key } of page) ids.push(Number(VECTORS_PENDING.unpack(key)[0]));
  }
  return ids;
}

async function nothingPending(tx: Transaction, c: Collection): Promise<boolean> {
  for (const name of Object.keys(c.config.vectors)) {
    const { begin, end } = c.keys.pending(name).range();
    if ((await tx.getRange(begin, end, { limit: 1 })).kvs.length > 0) return false;
  }
  return true;
}
