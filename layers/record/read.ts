import { keyAfter } from '../../src/kv/keys.js';
import type { Transaction } from '../../src/kv/types.js';
import { unpack } from '../../src/kv/tuple.js';
import { decodeRecord, decodeVector, type PointRecord } from './codec.js';
import type { Collection } from './collections.js';
import { matchesFilter } from './filter/match.js';
import { pointIdFromItem, pointIdItem } from './layout.js';
import { candidateSources, type CandidateSource, type ReadSpec } from './plan.js';
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
  const keys = await candidateKeys(tx, c, source, fromKey);
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    const raws = await Promise.all(chunk.map(({ key }) => tx.get(key)));
    for (const [j, { id, key }] of chunk.entries()) {
      const raw = raws[j];
      if (raw === undefined) continue;
      const record = decodeRecord(raw);
      if (visible(options, id, record)) yield { id, key, record };
    }
  }
}

async function* scan(tx: Transaction, c: Collection, spec: ReadSpec, fromKey: Uint8Array | undefined): AsyncGenerator<SelectedPoint> {
  const { begin, end } = c.keys.points.range();
  let from = fromKey ?? begin;
  const prefixLength = c.keys.points.prefix.length;
  for (;;) {
    const { kvs, more } = await tx.getRange(from, end, { limit: CHUNK });
    for (const { key, value } of kvs) {
      const id = pointIdFromItem(unpack(key.subarray(prefixLength))[0]);
      const record = decodeRecord(value);
      if (visible(spec, id, record)) yield { id, key, record };
    }
    const last = kvs[kvs.length - 1];
    if (!more || last === undefined) return;
    from = keyAfter(last.key);
  }
}

/** The source with the fewest entries, when one has fewer than a scan would read. */
async function cheapestSource(tx: Transaction, c: Collection, sources: readonly CandidateSource[]): Promise<CandidateSource | undefined> {
  if (sources.length === 0) return undefined;
  const total = Math.min(SCAN_EQUIVALENT, await countPoints(tx, c));
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

async function countPoints(tx: Transaction, c: Collection): Promise<number> {
  const v = await tx.get(c.keys.count, { snapshot: true });
  return v === undefined ? 0 : Number(Buffer.from(v).readBigInt64LE());
}

/** Entries in the source's ranges, counting no further than `cap`. */
async function countEntries(tx: Transaction, source: CandidateSource, cap: number): Promise<number> {
  let n = 0;
  for (const range of source.ranges) {
    let from = range.begin;
    for (;;) {
      const { kvs, more } = await tx.getRange(from, range.end, { limit: Math.min(CHUNK * 4, cap - n + 1), snapshot: true });
      n += kvs.length;
      const last = kvs[kvs.length - 1];
      if (n > cap) return n;
      if (!more || last === undefined) break;
      from = keyAfter(last.key);
    }
  }
  return n;
}

/** The distinct points of the source's entries at or after `fromKey`, in id order. */
async function candidateKeys(tx: Transaction, c: Collection, source: CandidateSource, fromKey: Uint8Array | undefined): Promise<{ id: PointId; key: Uint8Array }[]> {
  const byKey = new Map<string, { id: PointId; key: Uint8Array }>();
  const prefixLength = c.keys.index.prefix.length;
  for (const range of source.ranges) {
    let from = range.begin;
    for (;;) {
      const { kvs, more } = await tx.getRange(from, range.end, { limit: CHUNK * 4 });
      for (const { key } of kvs) {
        const items = unpack(key.subarray(prefixLength));
        const id = pointIdFromItem(items[items.length - 1]);
        const recKey = c.keys.points.pack([pointIdItem(id)]);
        if (fromKey !== undefined && Buffer.compare(recKey, fromKey) < 0) continue;
        byKey.set(Buffer.from(recKey).toString('latin1'), { id, key: recKey });
      }
      const last = kvs[kvs.length - 1];
      if (!more || last === undefined) break;
      from = keyAfter(last.key);
    }
  }
  return [...byKey.values()].sort((a, b) => Buffer.compare(a.key, b.key));
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
