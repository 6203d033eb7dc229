import type { PayloadPath } from '../payload-path.js';
import type { PointId } from '../point-id.js';

/**
 * The typed form of a Qdrant payload filter, produced once by `parseFilter` so that evaluation,
 * planning and indexes work on checked values instead of raw JSON.
 *
 * Each condition carries a `kind` tag; the tags are listed in {@link CONDITION_KINDS}. Field
 * conditions keep their parsed key path; its `text` is the key as the client wrote it.
 */

/** Every condition tag, as a constant so callers can switch on `condition.kind` exhaustively. */
export const CONDITION_KINDS = {
  /** `{"key", "match": {"value"}}`: a keyword, integer or bool equals the value. */
  matchValue: 'match_value',
  /** `{"key", "match": {"any": [...]}}`: a keyword or integer is one of the values. */
  matchAny: 'match_any',
  /** `{"key", "match": {"except": [...]}}`: some value is not one of them. */
  matchExcept: 'match_except',
  /** `{"key", "match": {"text"}}`: every query token is among the value's tokens. */
  matchText: 'match_text',
  /** `{"key", "match": {"text_any"}}`: some query token is among the value's tokens. */
  matchTextAny: 'match_text_any',
  /** `{"key", "match": {"phrase"}}`: the query tokens appear consecutively in the value. */
  matchPhrase: 'match_phrase',
  /** `{"key", "match": {"prefix"}}`: a keyword starts with the prefix (case-sensitive). */
  matchPrefix: 'match_prefix',
  /** `{"key", "range"}` with number bounds. */
  range: 'range',
  /** `{"key", "range"}` with string (datetime) bounds, held as epoch microseconds. */
  datetimeRange: 'datetime_range',
  /** `{"key", "values_count"}`. */
  valuesCount: 'values_count',
  /** `{"key", "is_empty": bool}`, the field-condition spelling (its semantics differ, see match.ts). */
  fieldIsEmpty: 'field_is_empty',
  /** `{"key", "is_null": bool}`, the field-condition spelling. */
  fieldIsNull: 'field_is_null',
  /** `{"is_empty": {"key"}}`. */
  isEmpty: 'is_empty',
  /** `{"is_null": {"key"}}`. */
  isNull: 'is_null',
  /** `{"has_id": [...]}`. */
  hasId: 'has_id',
  /** `{"nested": {"key", "filter"}}`. */
  nested: 'nested',
  /** A filter used as a condition. */
  filter: 'filter',
} as const;

/** The union of condition tags. */
export type ConditionKind = (typeof CONDITION_KINDS)[keyof typeof CONDITION_KINDS];

/** Bounds of a `range` or `values_count`; at least one is present (the parser refuses none). */
export interface Bounds {
  readonly lt?: number;
  readonly gt?: number;
  readonly gte?: number;
  readonly lte?: number;
}

/** A condition of kind `K` on the values at one payload path, with its own fields `T`. */
export type Keyed<K extends string, T> = { readonly kind: K; readonly key: PayloadPath } & T;

type Values = { readonly values: readonly string[] | readonly number[] };
type Text = { readonly text: string };

/** A condition on the values at one payload path (one member per kind, so `switch` narrows). */
export type FieldCondition =
  | Keyed<'match_value', { readonly value: string | number | boolean }>
  | Keyed<'match_any', Values>
  | Keyed<'match_except', Values>
  | Keyed<'match_text', Text>
  | Keyed<'match_text_any', Text>
  | Keyed<'match_phrase', Text>
  | Keyed<'match_prefix', { readonly prefix: string }>
  | Keyed<'range', { readonly bounds: Bounds }>
  | Keyed<'datetime_range', { readonly bounds: Bounds }>
  | Keyed<'values_count', { readonly bounds: Bounds }>
  | Keyed<'field_is_empty', { readonly value: boolean }>
  | Keyed<'field_is_null', { readonly value: boolean }>
  | Keyed<'is_empty', object>
  | Keyed<'is_null', object>;

/** Any condition of the grammar. */
export type Condition =
  | FieldCondition
  | { readonly kind: 'has_id'; readonly ids: ReadonlySet<PointId> }
  | { readonly kind: 'nested'; readonly key: PayloadPath; readonly filter: Filter }
  | { readonly kind: 'filter'; readonly filter: Filter };

/** `min_should`: at least `minCount` (1 or more) of `conditions` hold. */
export interface MinShould {
  readonly conditions: readonly Condition[];
  readonly minCount: number;
}

/**
 * A filter. Absent clauses are empty lists: an empty `should` is no constraint, as in Qdrant's
 * query path (see match.ts).
 */
export interface Filter {
  readonly must: readonly Condition[];
  readonly should: readonly Condition[];
  readonly mustNot: readonly Condition[];
  readonly minShould?: MinShould;
}
