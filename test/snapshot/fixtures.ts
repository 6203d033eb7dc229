import { pages } from '../../src/kv/pages.js';
import type { Database } from '../../src/kv/types.js';
import { TENANT_LAST_ID_KEY, TENANT_PREFIX_LENGTH } from '../../src/tenancy/layout.js';
import { createTenant, getTenant } from '../../src/tenancy/registry.js';
import { tenantHandle } from '../../src/tenancy/tenant.js';
import { createCollection, createPayloadIndex, parseIndexSchema, parseUpsertPoints, requireCollection, selectPoints, upsertPoints } from '../../layers/record/index.js';
import { COLLECTION_LAST_ID_KEY } from '../../layers/record/layout.js';
import { search, VectorCache, VectorIndexer } from '../../layers/vector/index.js';
import { seeded } from '../helpers/random.js';
import { BlockBuilder, chainCrc, CODEC, encodeFooter, encodeFrameHead, encodeJsonFrame, encodePreamble, FRAME, type SnapshotHeader } from '../../src/snapshot/format.js';
import { pointKeyTest } from '../../src/snapshot/points.js';

/** Cities the fixture's points carry (indexed as a keyword). */
export const CITIES = ['Berlin', 'Paris', 'Oslo', 'Rome'];

/**
 * A tenant with a collection of `points` points (8-dimensional Cosine vectors, payloads, a keyword
 * index on `city`, an HNSW graph linked by the indexer) and a few raw key-value pairs.
 */
export async function seedTenant(db: Database, tenant: string, options: { points?: number; collection?: string; seed?: number } = {}): Promise<void> {
  const n = options.points ?? 300;
  const name = options.collection ?? 'docs';
  const random = seeded(options.seed ?? 7);
  if ((await db.transact(tx => getTenant(tx, tenant))) === undefined) await db.transact(tx => createTenant(tx, tenant));
  const t = tenantHandle(db, tenant);
  await t.transact(async tx => {
    const c = await createCollection(tx, name, { vectors: { size: 8, distance: 'Cosine' }, hnsw_config: { m: 8, ef_construct: 32, full_scan_threshold: 1 } });
    await createPayloadIndex(tx, c, 'city', parseIndexSchema('keyword'));
    tx.set(Buffer.from('kv/hello'), Buffer.from('world'));
    tx.set(Buffer.from('kv/bin\x00\xff'), Uint8Array.of(0, 1, 2, 255));
  });
  for (let i = 0; i < n; i += 100) {
    await t.transact(async tx => {
      const c = await requireCollection(tx, name);
      const points = Array.from({ length: Math.min(100, n - i) }, (_, j) => ({
        id: i + j,
        vector: Array.from({ length: 8 }, () => random() - 0.5),
        payload: { city: CITIES[(i + j) % CITIES.length], n: i + j, tags: ['a', String((i + j) % 3)] },
      }));
      await upsertPoints(tx, c, parseUpsertPoints(c.config, { points }));
    });
  }
  await new VectorIndexer(db).drain();
}

/** Every point of a collection: id, payload and vector, in id order. */
export async function pointsOf(db: Database, tenant: string, collection = 'docs'): Promise<unknown[]> {
  return tenantHandle(db, tenant).transact(async tx => {
    const c = await requireCollection(tx, collection);
    const out: unknown[] = [];
    for await (const p of selectPoints(tx, c)) out.push({ id: p.id, record: p.record });
    return out;
  });
}

/** Search results (graph search through a cache, filtered by the index) for a few fixed queries. */
export async function searchesOf(db: Database, tenant: string, collection = 'docs'): Promise<unknown[]> {
  const { parseFilter } = await import('../../layers/record/index.js');
  const random = seeded(99);
  const cache = new VectorCache();
  return tenantHandle(db, tenant).transact(async tx => {
    const c = await requireCollection(tx, collection);
    const out: unknown[] = [];
    for (let q = 0; q < 5; q++) {
      const vector = Float32Array.from({ length: 8 }, () => random() - 0.5);
      out.push(await search(tx, c, { vector, limit: 5, hnswEf: 32, cache }));
      out.push(await search(tx, c, { vector, limit: 5, filter: parseFilter({ must: [{ key: 'city', match: { value: 'Oslo' } }] }), cache }));
    }
    return out;
  });
}

/** The relative keys and values of a tenant's keyspace, as hex pairs. */
export async function tenantDump(db: Database, tenant: string): Promise<Array<[string, string]>> {
  return tenantHandle(db, tenant).transact(async tx => {
    const out: Array<[string, string]> = [];
    for await (const page of pages(tx, new Uint8Array(0), Uint8Array.of(0xff), { limit: 1000 })) {
      for (const { key, value } of page) out.push([Buffer.from(key).toString('hex'), Buffer.from(value).toString('hex')]);
    }
    return out;
  });
}

/**
 * The whole store as hex pairs, leaving out the id counters (a refused restore may have allocated an
 * id, which is never reused: that is the one change it is allowed to leave).
 */
export async function storeDump(db: Database): Promise<Array<[string, string]>> {
  const counters = [Buffer.from(TENANT_LAST_ID_KEY).toString('hex'), Buffer.from(COLLECTION_LAST_ID_KEY).toString('hex')];
  return db.transact(async tx => {
    const out: Array<[string, string]> = [];
    for await (const page of pages(tx, new Uint8Array(0), Uint8Array.of(0xff), { limit: 1000 })) {
      for (const { key, value } of page) {
        const hex = Buffer.from(key).toString('hex');
        const local = key[0] === 0xfd ? Buffer.from(key.subarray(TENANT_PREFIX_LENGTH)).toString('hex') : '';
        if (hex === counters[0] || local === counters[1]) continue;
        out.push([hex, Buffer.from(value).toString('hex')]);
      }
    }
    return out;
  });
}

/**
 * A snapshot file built by hand, valid in every checksum and count, holding whatever pairs an
 * attacker chooses (stored blocks, in the order given): for refusals that a forged file, not a
 * corrupt one, must meet.
 */
export async function craftSnapshot(header: SnapshotHeader, blocks: ReadonlyArray<ReadonlyArray<readonly [Uint8Array, Uint8Array]>>): Promise<Buffer> {
  const isPoint = pointKeyTest(header.kind);
  const parts: Buffer[] = [encodePreamble(), encodeJsonFrame(FRAME.header, header)];
  const trailer = { blocks: 0, pairs: 0, points: 0, raw_bytes: 0, chain: 0 };
  for (const pairs of blocks) {
    const builder = new BlockBuilder();
    for (const [key, value] of pairs) {
      builder.add(key, value);
      trailer.pairs++;
      if (isPoint(key)) trailer.points++;
    }
    const raw = builder.take();
    const head = encodeFrameHead(FRAME.data, CODEC.stored, raw.length, raw);
    parts.push(head, raw);
    trailer.blocks++;
    trailer.raw_bytes += raw.length;
    trailer.chain = chainCrc(trailer.chain, head.readUInt32BE(10));
  }
  const trailerFrame = encodeJsonFrame(FRAME.trailer, trailer);
  parts.push(trailerFrame, encodeFooter(trailerFrame.length));
  return Buffer.concat(parts);
}
