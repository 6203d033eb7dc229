import { fail, isPlainObject, objectOf, optionalBool } from './validate.js';

/**
 * Payload index schemas, as Qdrant's `field_schema`: a type name (`"keyword"`) or an object with
 * `type` and its parameters. Strata indexes `keyword`, `integer`, `float`, `bool`, `datetime`,
 * `uuid` and `text`; `is_tenant` marks a keyword or uuid field as the tenant field of a multitenant
 * collection (the vector index builds a graph per value of it).
 */

export const INDEX_TYPES = ['keyword', 'integer', 'float', 'bool', 'datetime', 'uuid', 'text'] as const;
export type IndexType = (typeof INDEX_TYPES)[number];

/** A payload index as stored and reported. */
export interface IndexSchema {
  readonly type: IndexType;
  readonly is_tenant?: boolean;
  /** Other parameters, kept and reported as given (on_disk, lookup, range, tokenizer, lowercase…). */
  readonly params: Readonly<Record<string, unknown>>;
  /**
   * True while the index is being built over existing points in several transactions: writes
   * already maintain it, but the planner does not use it until it is complete.
   */
  readonly building?: true;
}

const CODE = 'ERR_INDEX_INVALID';
const PARAMS: Readonly<Record<IndexType, readonly string[]>> = {
  keyword: ['is_tenant', 'on_disk'],
  integer: ['lookup', 'range', 'is_principal', 'on_disk'],
  float: ['is_principal', 'on_disk'],
  bool: ['on_disk'],
  datetime: ['is_principal', 'on_disk'],
  uuid: ['is_tenant', 'on_disk'],
  text: ['tokenizer', 'min_token_len', 'max_token_len', 'lowercase', 'on_disk', 'phrase_matching', 'stopwords', 'stemmer', 'ascii_folding'],
};

/** Parse a `field_schema`. Geo indexes are refused as not supported. */
export function parseIndexSchema(value: unknown): IndexSchema {
  if (value === 'geo' || (isPlainObject(value) && value['type'] === 'geo')) {
    fail('ERR_FEATURE_UNSUPPORTED', 'field_schema', 'geo payload indexes are not supported by Strata yet');
  }
  if (typeof value === 'string') {
    if (!INDEX_TYPES.includes(value as IndexType)) fail(CODE, 'field_schema', `must be one of ${INDEX_TYPES.join(', ')}`);
    return { type: value as IndexType, params: {} };
  }
  if (!isPlainObject(value)) fail(CODE, 'field_schema', 'must be a type name or an object with "type"');
  const type = value['type'];
  if (!INDEX_TYPES.includes(type as IndexType)) fail(CODE, 'field_schema.type', `must be one of ${INDEX_TYPES.join(', ')}`);
  const t = type as IndexType;
  const o = objectOf(CODE, 'field_schema', value, ['type', ...PARAMS[t]]);
  if (t === 'text' && o['tokenizer'] !== undefined && o['tokenizer'] !== 'word' && o['tokenizer'] !== 'whitespace') {
    fail('ERR_FEATURE_UNSUPPORTED', 'field_schema.tokenizer', 'Strata tokenizes text by words ("word" or "whitespace")');
  }
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (k !== 'type' && k !== 'is_tenant' && v !== undefined) params[k] = v;
  const isTenant = optionalBool(CODE, 'field_schema.is_tenant', o['is_tenant'], false);
  return { type: t, ...(isTenant ? { is_tenant: true } : {}), params };
}

/** The schema in Qdrant's shape, as `payload_schema` reports it. */
export function toQdrantSchema(schema: IndexSchema): { data_type: IndexType; params?: Record<string, unknown> } {
  const params = { ...schema.params, ...(schema.is_tenant === true ? { is_tenant: true } : {}) };
  return Object.keys(params).length === 0 ? { data_type: schema.type } : { data_type: schema.type, params: { type: schema.type, ...params } };
}
