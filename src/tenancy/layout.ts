import { LIMITS } from '../kv/limits.js';
import { Subspace } from '../kv/subspace.js';

/**
 * Where Strata keeps tenants in the keyspace. On-disk constants, pinned by
 * `test/tenancy/layout.test.ts`: changing them orphans existing data.
 *
 *   [\x00, \xfd)      raw keys, reachable only by trusted callers (tenant_mode optional/disabled)
 *   \xfd + id(8, BE)  one tenant's data; the id is allocated by the registry and never reused
 *   \xfe ...          Strata's system subspace (tenant registry, revocations, API keys, restores):
 *                     trusted callers only
 *   \xff ...          FoundationDB's own system keys: never touched
 */
export const TENANT_DATA_PREFIX = 0xfd;
export const SYSTEM_PREFIX = 0xfe;
/** Bytes before every tenant key: the data prefix and the 8-byte id. */
export const TENANT_PREFIX_LENGTH = 9;
/** The longest key a tenant may use: the contract's limit less the tenant prefix. */
export const TENANT_KEY_SIZE_LIMIT = LIMITS.keySize - TENANT_PREFIX_LENGTH;

/** Strata's system subspace. */
export const SYSTEM = new Subspace(Uint8Array.of(SYSTEM_PREFIX));
/** name (bytes) -> id (8 bytes, big-endian). */
export const TENANT_BY_NAME = SYSTEM.subspace(['tenant', 'by_name']);
/** id (8 bytes) -> name (bytes). */
export const TENANT_BY_ID = SYSTEM.subspace(['tenant', 'by_id']);
/** The last id allocated (8 bytes, big-endian). */
export const TENANT_LAST_ID_KEY = SYSTEM.pack(['tenant', 'last_id']);
/** name (bytes) -> the tenant's own limits (JSON), see limits.ts. */
export const TENANT_LIMITS = SYSTEM.subspace(['tenant', 'limits']);
/** How many tenants exist (8 bytes, little-endian, maintained with atomic add). */
export const TENANT_COUNT_KEY = SYSTEM.pack(['tenant', 'count']);
/**
 * Restores in progress: ('tenant', new tenant id) or ('collection', tenant id, new collection id)
 * -> JSON {target, started_at, heartbeat_at}. A restore writes its data under a fresh id nobody
 * reads, and its marker says whose that data is, so a restore that died can be cleaned up later.
 */
export const RESTORE_MARKERS = SYSTEM.subspace(['snapshot', 'restore']);

/** The prefix of tenant `id`'s data. */
export function tenantPrefix(id: bigint): Uint8Array {
  const out = Buffer.alloc(TENANT_PREFIX_LENGTH);
  out[0] = TENANT_DATA_PREFIX;
  out.writeBigUInt64BE(id, 1);
  return out;
}

/** An id as 8 big-endian bytes. */
export function encodeTenantId(id: bigint): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(id);
  return out;
}

/** 8 big-endian bytes as an id. */
export function decodeTenantId(bytes: Uint8Array): bigint {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE();
}
