import { StrataError } from '../../src/errors.js';
import { pages } from '../../src/kv/pages.js';
import type { Transaction } from '../../src/kv/types.js';
import { parseCollectionConfig, parseHnsw, type CollectionConfig } from './collection-config.js';
import type { IndexSchema } from './index-schema.js';
import { COLLECTION_BY_NAME, COLLECTION_CONFIG, COLLECTION_LAST_ID_KEY, collectionKeys, type CollectionKeys } from './layout.js';
import { fail, objectOf } from './validate.js';
import { parseStrictMode } from './strict-mode.js';
import { countCollectionUsage } from './usage.js';

/**
 * Collections of a tenant: create, open, list, update, delete. Each has a numeric id, allocated on
 * creation and never reused, under which all its data lives, so deleting one is a single range
 * clear and a collection created again under the same name starts empty.
 */

/** A shard key, as Qdrant's custom sharding names them. */
export type ShardKey = string | number;

/** What is stored about a collection. */
export interface StoredCollection {
  readonly name: string;
  readonly id: number;
  readonly config: CollectionConfig;
  readonly indexes: Readonly<Record<string, IndexSchema>>;
  readonly shardKeys: readonly ShardKey[];
}

/** An open collection: what is stored plus its key layout. */
export interface Collection extends StoredCollection {
  readonly keys: CollectionKeys;
}

const FORBIDDEN_NAME = /[\u0000-\u001f\u007f/\\<>:"|?*]/;

/** Check a collection name: 1-255 bytes, no control characters nor `/ \ < > : " | ? *`. */
export function checkCollectionName(name: string): void {
  if (typeof name !== 'string' || name === '' || Buffer.byteLength(name) > 255 || FORBIDDEN_NAME.test(name) || name === '.' || name === '..') {
    throw new StrataError(
      'ERR_COLLECTION_NAME_INVALID',
      'a collection name must be 1 to 255 bytes without control characters or any of / \\ < > : " | ? *',
    );
  }
}

function encodeId(id: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(id));
  return b;
}

function open(stored: StoredCollection): Collection {
  return { ...stored, keys: collectionKeys(stored.id) };
}

/**
 * Collections opened recently, by their stored bytes: a request opens its collection from the
 * bytes it read in its own transaction, and identical bytes give an identical collection (keys are
 * relative to the tenant, so tenants with equal stored bytes share one). Saves parsing the JSON and
 * packing the key layout on every request, and lets per-collection memos (graph keys) persist.
 */
const opened = new Map<string, Collection>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
const OPENED_MAX = 1000;

function openStored(raw: Uint8Array): Collection {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  let c = opened.get(text);
  if (c === undefined) {
    // Frozen: shared between requests, so nothing may change it in place.
    c = Object.freeze(open(deepFreeze(JSON.parse(text) as StoredCollection)));
    if (opened.size >= OPENED_MAX) opened.delete(opened.keys().next().value as string);
    opened.set(text, c);
  }
  return c;
}

/** The collection called `name`, or undefined. */
export async function openCollection(tx: Transaction, name: string): Promise<Collection | undefined> {
  checkCollectionName(name);
  const idBytes = await tx.get(COLLECTION_BY_NAME.pack([name]));
  if (idBytes === undefined) return undefined;
  const id = Number(Buffer.from(idBytes).readBigUInt64BE());
  const raw = await tx.get(COLLECTION_CONFIG.pack([id]));
  if (raw === undefined) throw new Error(`collection ${name} has an id but no config`);
  return openStored(raw);
}

/** The collection with numeric id `id`, or undefined (for background work that holds ids). */
export async function openCollectionById(tx: Transaction, id: number): Promise<Collection | undefined> {
  const raw = await tx.get(COLLECTION_CONFIG.pack([id]));
  return raw === undefined ? undefined : openStored(raw);
}

/** The collection called `name`, or `ERR_COLLECTION_NOT_FOUND`. */
export async function requireCollection(tx: Transaction, name: string): Promise<Collection> {
  const c = await openCollection(tx, name);
  if (c === undefined) throw new StrataError('ERR_COLLECTION_NOT_FOUND', `Collection \`${name}\` doesn't exist!`, { details: { collection: name } });
  return c;
}

/** Store `stored` (a new collection, or a changed one). */
export function saveCollection(tx: Transaction, stored: StoredCollection): void {
  const { name, id, config, indexes, shardKeys } = stored;
  tx.set(COLLECTION_CONFIG.pack([id]), Buffer.from(JSON.stringify({ name, id, config, indexes, shardKeys })));
}

/** Create a collection from a Qdrant create body; `ERR_COLLECTION_EXISTS` when the name is taken. */
export async function createCollection(tx: Transaction, name: string, body: unknown): Promise<Collection> {
  checkCollectionName(name);
  const config = parseCollectionConfig(body);
  if ((await tx.get(COLLECTION_BY_NAME.pack([name]))) !== undefined) {
    throw new StrataError('ERR_COLLECTION_EXISTS', `Wrong input: Collection \`${name}\` already exists!`, { details: { collection: name } });
  }
  const last = await tx.get(COLLECTION_LAST_ID_KEY);
  const id = (last === undefined ? 0 : Number(Buffer.from(last).readBigUInt64BE())) + 1;
  tx.set(COLLECTION_LAST_ID_KEY, encodeId(id));
  tx.set(COLLECTION_BY_NAME.pack([name]), encodeId(id));
  const stored: StoredCollection = { name, id, config, indexes: {}, shardKeys: [] };
  saveCollection(tx, stored);
  return open(stored);
}

/** Names of the tenant's collections, in name order. */
export async function listCollections(tx: Transaction): Promise<string[]> {
  const names: string[] = [];
  const { begin, end } = COLLECTION_BY_NAME.range();
  for await (const page of pages(tx, begin, end, { limit: 1000 })) {
    for (const { key } of page) names.push(String(COLLECTION_BY_NAME.unpack(key)[0]));
  }
  return names;
}

/** Delete the collection and all its points; false when there was none. */
export async function deleteCollection(tx: Transaction, name: string): Promise<boolean> {
  const c = await openCollection(tx, name);
  if (c === undefined) return false;
  tx.clear(COLLECTION_BY_NAME.pack([name]));
  tx.clear(COLLECTION_CONFIG.pack([c.id]));
  await countCollectionUsage(tx, c, -1);
  const { begin, end } = c.keys.data.range();
  tx.clearRange(begin, end);
  tx.clear(c.keys.pendingFlag);
  return true;
}

const UPDATE_FIELDS = ['hnsw_config', 'optimizers_config', 'params', 'vectors', 'quantization_config', 'sparse_vectors', 'strict_mode_config', 'metadata'];

/**
 * Apply a Qdrant update-collection body: `hnsw_config` and `strict_mode_config` are merged;
 * optimizer, quantization and `params` settings are kept and reported (they tune Qdrant's storage,
 * not results); changing vectors or sparse vectors is refused as not supported.
 */
export async function updateCollection(tx: Transaction, name: string, body: unknown): Promise<Collection> {
  const c = await requireCollection(tx, name);
  const b = objectOf('ERR_COLLECTION_CONFIG_INVALID', '', body ?? {}, UPDATE_FIELDS);
  for (const unsupported of ['vectors', 'sparse_vectors'] as const) {
    if (b[unsupported] !== undefined && b[unsupported] !== null) {
      fail('ERR_FEATURE_UNSUPPORTED', unsupported, `updating ${unsupported} is not supported by Strata yet`);
    }
  }
  const passthrough = { ...c.config.passthrough };
  if (b['optimizers_config'] !== undefined) passthrough['optimizers_config'] = b['optimizers_config'];
  if (b['quantization_config'] !== undefined) passthrough['quantization_config'] = b['quantization_config'];
  if (b['params'] !== undefined) passthrough['params'] = b['params'];
  const strict = parseStrictMode(b['strict_mode_config'], c.config.strict);
  const config: CollectionConfig = { ...c.config, hnsw: parseHnsw('hnsw_config', b['hnsw_config'], c.config.hnsw), passthrough, ...(Object.keys(strict).length > 0 ? { strict } : {}) };
  // A graph switched on over stored points would hold only the points written after it: searches
  // would miss the others. Refused until Strata links existing points in the background.
  const switchedOn = (before: number, after: number) => before === 0 && after > 0;
  if ((switchedOn(c.config.hnsw.m, config.hnsw.m) || switchedOn(c.config.hnsw.payload_m ?? 0, config.hnsw.payload_m ?? 0)) && (await pointCount(tx, c)) > 0) {
    fail('ERR_FEATURE_UNSUPPORTED', 'hnsw_config', 'turning on m or payload_m (from 0) in a collection that holds points is not supported by Strata yet: create the collection with them, or recreate it');
  }
  const next: StoredCollection = { ...c, config };
  saveCollection(tx, next);
  return open(next);
}

/** How many points the collection holds. */
export async function pointCount(tx: Transaction, c: Collection, options: { snapshot?: boolean } = {}): Promise<number> {
  const v = await tx.get(c.keys.count, options);
  return v === undefined ? 0 : Number(Buffer.from(v).readBigInt64LE());
}
