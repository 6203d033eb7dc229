import { keyAfter } from '../kv/keys.js';
import type { Database, KeyValue, RangeResult } from '../kv/types.js';

/**
 * Where a snapshot reads from. On an engine that can hold a version (the embedded engine), one
 * long-lived reader: every pair is read at one version, however long the snapshot takes. Elsewhere
 * (FoundationDB), a transaction per page, each far inside the 5-second limit and resuming just after
 * the last key read: every page is consistent in itself, the whole is not (writes that land between
 * pages are seen by the later pages only).
 */
export interface RangeSource {
  /** True when every read sees one version. */
  readonly consistent: boolean;
  /** That version, when there is one. */
  readonly readVersion: number | undefined;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** The pairs of [begin, end) in key order, a page at a time. */
  pages(begin: Uint8Array, end: Uint8Array): AsyncGenerator<KeyValue[]>;
  close(): void;
}

/** Rows per page from a held version: a few MiB, so the copy streams in big steps. */
const READER_PAGE = 4096;
/** Rows per transaction on FoundationDB: a page must come back well inside 5 s even with 100 KB values. */
const TRANSACTION_PAGE = 1000;

/** The best source `db` offers: one version when the engine can hold it, else a transaction per page. */
export function openRangeSource(db: Database): RangeSource {
  const reader = db.openSnapshotReader?.();
  if (reader !== undefined) {
    return {
      consistent: true,
      readVersion: reader.version,
      get: key => reader.get(key),
      pages: (begin, end) => paged(begin, end, READER_PAGE, (from, to, limit) => reader.getRange(from, to, { limit })),
      close: () => reader.close(),
    };
  }
  return {
    consistent: false,
    readVersion: undefined,
    get: key => db.transact(tx => tx.get(key, { snapshot: true })),
    pages: (begin, end) =>
      paged(begin, end, TRANSACTION_PAGE, (from, to, limit) => db.transact(tx => tx.getRange(from, to, { limit, snapshot: true }))),
    close: () => undefined,
  };
}

async function* paged(
  begin: Uint8Array,
  end: Uint8Array,
  limit: number,
  read: (from: Uint8Array, to: Uint8Array, limit: number) => Promise<RangeResult>,
): AsyncGenerator<KeyValue[]> {
  let from = begin;
  for (;;) {
    const { kvs, more } = await read(from, end, limit);
    if (kvs.length > 0) yield kvs;
    const last = kvs[kvs.length - 1];
    if (!more || last === undefined) return;
    from = keyAfter(last.key);
  }
}
