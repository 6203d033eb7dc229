import { concatBytes, keyAfter } from '../../src/kv/keys.js';
import { pages } from '../../src/kv/pages.js';
import type { Transaction } from '../../src/kv/types.js';
import { unpack, type TupleItem } from '../../src/kv/tuple.js';
import { decodeRecord, decodeVector, type PointRecord } from './codec.js';
import { pointCount, type Collection } from './collections.js';
import { matchesFilter } from './filter/match.js';
import { decodePointId, pointIdItem } from './layout.js';
import { candidateSources, type CandidateSource, type IndexRange, type ReadSpec } from './plan.js';
import type { PointId } from './point-id.js';
import { inScope } from './scope.js';
import { recordKey } from './store.js';

/**
 * Reading points: every read (scroll, count, retrieve, search with a filter) goes through
 * {@link selectPoints}, which applies the filter, the payload scope and the shard key together, so
 * no route can forget the scope. It takes its candidates from the most selective payload index
 * range the planner offers, or scans the collection when none helps.
 */

/** A point a read returns. */
export interface SelectedPoint {
  readonly id: PointId;
  /** The record key (for ordering and merging). */
  readonly key: Uint8Array;
  readonly record: PointRecord;
}

/** Options of {@link selectPoints}. */
export interface SelectOptions extends ReadSpec {
  /** Start at this id (inclusive), in id order. */
  readonly from?: PointId | undefined;
}

const CHUNK = 512;
/** Above this many candidates a source is no better than a scan; counting stops there. */
const SCAN_EQUIVALENT = 50_000;

/** True when `point` passes the filter, the scope and the shard key of `spec`. */
export function visible(spec: ReadSpec, id: PointId, record: PointRecord): boolean {
  if (spec.shardKey !== undefined && record.shardKey !== spec.shardKey) return false;
  if (!inScope(spec.scope, record.payload)) return false;
  return spec.filter === undefined || matchesFilter(spec.filter, { id, payload: record.payload });
}

/** The points `spec` selects, in id order, from `options.from` on. */
export async function* selectPoints(tx: Transaction, c: Collection, options: SelectOptions = {}): AsyncGenerator<SelectedPoint> {
  const fromKey = options.from === undefined ? undefined : recordKey(c, options.from);
  const source = await cheapestSource(tx, c, candidateSources(c, options));
  if (source === undefined) {
    yield* scan(tx, c, options, fromKey);
    return;
  }
  const [only] = source.ranges;
  const keys = source.ranges.length === 1 && only?.idOffset !== undefined ? streamRange(tx, c, only, only.idOffset, fromKey) : sortedCandidates(tx, c, source, fromKey);
  // Records are fetched in growing batches: a scroll of a few points reads a few records.
  let batch: Uint8Array[] = [];
  let size = 16;
  const flush = async function* (): AsyncGenerator<SelectedPoint> {
    const raws = await Promise.all(batch.map(key => tx.get(key)));
    for (const [j, key] of batch.entries()) {
      const raw = raws[j];
      if (raw === undefined) continue;
      const record = decodeRecord(raw);
      const id = idOfRecordKey(c, key);
      if (visible(options, id, record)) yield { id, key, record };
    }
    batch = [];
    size = Math.min(size * 2, CHUNK);
  };
  for await (const key of keys) {
    batch.push(key);
    if (batch.length >= size) yield* flush();
  }
  yield* flush();
}

/**
 * How many points `spec` selects. When the filter is one condition that an index answers exactly
 * (an equality on a keyword, numeric or bool field, or only a shard key), its entries are counted
 * without reading a record.
 */
export async function countSelected(tx: Transaction, c: Collection, spec: ReadSpec): Promise<number> {
  if (spec.filter === undefined && spec.shardKey === undefined && spec.scope === undefined) return pointCount(tx, c, { snapshot: true });
  const source = exactSource(c, spec);
  if (source !== undefined) return countEntries(tx, source, Number.MAX_SAFE_INTEGER, false);
  let n = 0;
  for await (const _ of selectPoints(tx, c, spec)) n++;
  return n;
}

/**
 * The index source whose entries are exactly the points `spec` selects, when there is one: the
 * spec is one condition (or only a shard key, or only a scope) that an index answers exactly.
 */
function exactSource(c: Collection, spec: ReadSpec): CandidateSource | undefined {
  const f = spec.filter;
  const single = f === undefined || (f.must.length === 1 && f.should.length === 0 && f.mustNot.length === 0 && f.minShould === undefined);
  const restrictions = (f === undefined ? 0 : 1) + (spec.shardKey === undefined ? 0 : 1) + (spec.scope === undefined ? 0 : 1);
  if (!single || restrictions !== 1) return undefined;
  const [source] = candidateSources(c, spec);
  return source?.exact === true ? source : undefined;
}

/**
 * The packed ids of the points `spec` selects, a page at a time, from index entries alone (no
 * record is read), when one index answers the spec exactly; undefined otherwise.
 */
export function selectedIdsByIndex(tx: Transaction, c: Collection, spec: ReadSpec): AsyncGenerator<Uint8Array[]> | undefined {
  const source = exactSource(c, spec);
  const [range] = source?.ranges ?? [];
  if (source?.ranges.length !== 1 || range?.idOffset === undefined) return undefined;
  const idOffset = range.idOffset;
  return (async function* () {
    for await (const page of pages(tx, range.begin, range.end, { limit: CHUNK })) yield page.map(({ key }) => key.subarray(idOffset));
  })();
}

/**
 * About how many points `spec` selects, counting index entries no further than `cap`; `cap` when
 * no index narrows it (unknown counts as many).
 */
export async function estimateSelected(tx: Transaction, c: Collection, spec: ReadSpec, cap: number): Promise<number> {
  let best = cap;
  for (const source of candidateSources(c, spec)) best = Math.min(best, await countEntries(tx, source, best));
  return best;
}

/** The record keys of one value's index entries, in id order, from `fromKey` on. */
async function* streamRange(tx: Transaction, c: Collection, range: IndexRange, idOffset: number, fromKey: Uint8Array | undefined): AsyncGenerator<Uint8Array> {
  const pointsPrefix = c.keys.points.prefix;
  let from = fromKey === undefined ? range.begin : concatBytes(range.begin, fromKey.subarray(pointsPrefix.length));
  let limit = 32;
  for (;;) {
    const { kvs, more } = await tx.getRange(from, range.end, { limit });
    for (const { key } of kvs) yield concatBytes(pointsPrefix, key.subarray(idOffset));
    const last = kvs[kvs.length - 1];
    if (!more || last === undefined) return;
    from = keyAfter(last.key);
    limit = Math.min(limit * 2, CHUNK * 4);
  }
}

async function* scan(tx: Transaction, c: Collection, spec: ReadSpec, fromKey: Uint8Array | undefined): AsyncGenerator<SelectedPoint> {
  const { begin, end } = c.keys.points.range();
  const prefixLength = c.keys.points.prefix.length;
  for await (const page of pages(tx, fromKey ?? begin, end, { limit: CHUNK })) {
    for (const { key, value } of page) {
      const id = decodePointId(key.subarray(prefixLength));
      const record = decodeRecord(value);
      if (visible(spec, id, record)) yield { id, key, record };
    }
  }
}

/** The source with the fewest entries, when one has fewer than a scan would read. */
async function cheapestSource(tx: Transaction, c: Collection, sources: readonly CandidateSource[]): Promise<CandidateSource | undefined> {
  if (sources.length === 0) return undefined;
  // One source: taken without counting its entries first (a count would read them twice). An
  // index lookup costs at worst a few times a scan, even when the value is on most points.
  if (sources.length === 1) return sources[0];
  const total = Math.min(SCAN_EQUIVALENT, await pointCount(tx, c, { snapshot: true }));
  let best: CandidateSource | undefined;
  let bestCount = total;
  for (const source of sources) {
    const n = await countEntries(tx, source, bestCount);
    if (n < bestCount) {
      best = source;
      bestCount = n;
    }
  }
  return best;
}


/** Entries in the source's ranges, counting no further than `cap` (snapshot reads: an estimate). */
async function countEntries(tx: Transaction, source: CandidateSource, cap: number, snapshot = true): Promise<number> {
  let n = 0;
  for (const range of source.ranges) {
    let from = range.begin;
    for (;;) {
      const { kvs, more } = await tx.getRange(from, range.end, { limit: Math.min(CHUNK * 4, cap - n + 1), snapshot });
      n += kvs.length;
      const last = kvs[kvs.length - 1];
      if (n > cap) return n;
      if (!more || last === undefined) break;
      from = keyAfter(last.key);
    }
  }
  return n;
}

/** The distinct record keys of the source's entries at or after `fromKey`, in id order. */
async function* sortedCandidates(tx: Transaction, c: Collection, source: CandidateSource, fromKey: Uint8Array | undefined): AsyncGenerator<Uint8Array> {
  const byKey = new Map<string, Uint8Array>();
  const indexPrefixLength = c.keys.index.prefix.length;
  const pointsPrefix = c.keys.points.prefix;
  for (const range of source.ranges) {
    for await (const page of pages(tx, range.begin, range.end, { limit: CHUNK * 4 })) {
      for (const { key } of page) {
        let recKey: Uint8Array;
        if (range.idOffset !== undefined) recKey = concatBytes(pointsPrefix, key.subarray(range.idOffset));
        else {
          const items = unpack(key.subarray(indexPrefixLength));
          recKey = c.keys.points.pack([items[items.length - 1] as TupleItem]);
        }
        if (fromKey !== undefined && Buffer.compare(recKey, fromKey) < 0) continue;
        byKey.set(Buffer.from(recKey.buffer, recKey.byteOffset, recKey.byteLength).toString('latin1'), recKey);
      }
    }
  }
  yield* [...byKey.values()].sort((a, b) => Buffer.compare(a, b));
}

/** The point id of a record key. */
function idOfRecordKey(c: Collection, key: Uint8Array): PointId {
  return decodePointId(key.subarray(c.keys.points.prefix.length));
}

/** The vector `name` of point `id`, or undefined. */
export async function readVector(tx: Transaction, c: Collection, name: string, id: PointId): Promise<Float32Array | undefined> {
  const raw = await tx.get(c.keys.vectors(name).pack([pointIdItem(id)]));
  return raw === undefined ? undefined : decodeVector(raw);
}

/** All the point's vectors, by name. */
export async function readVectors(tx: Transaction, c: Collection, id: PointId): Promise<Map<string, Float32Array>> {
  const names = Object.keys(c.config.vectors);
  const values = await Promise.all(names.map(name => readVector(tx, c, name, id)));
  const out = new Map<string, Float32Array>();
  for (const [i, name] of names.entries()) {
    const v = values[i];
    if (v !== undefined) out.set(name, v);
  }
  return out;
}
