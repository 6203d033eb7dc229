import { StrataError } from '../../src/errors.js';

/**
 * Payload key paths, as Qdrant's `JsonPath` has them (`lib/segment/src/json_path/parse.rs`):
 * a first key, then any of `.key`, `."quoted key"`, `[n]` (one array element) and `[]` (every
 * array element). A bare key is one or more letters, digits, `_` or `-`; anything else (dots,
 * spaces, brackets) needs double quotes, and a quoted key cannot hold `"` or `\` (Qdrant has no
 * escapes).
 *
 * Reading follows Qdrant's `value_get` (`json_path/mod.rs`), which does NOT look through arrays on
 * its own: `a.b` finds nothing when `a` is an array of objects; one writes `a[].b`. (Qdrant before
 * 1.8 flattened implicitly; the current source and its tests, e.g. `test_no_flatten_array_value_
 * from_json_map`, do not.)
 */

/** One step after the first key: an object key, one array element, or every array element. */
export type PathStep =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' };

/** A parsed payload path. `text` is the path as written, for messages and index lookups. */
export interface PayloadPath {
  readonly text: string;
  readonly first: string;
  readonly rest: readonly PathStep[];
}

// Rust's `char::is_alphanumeric` is Unicode Alphabetic or Numeric; `\p{N}` is the Numeric part.
const BARE_KEY = /^[\p{Alphabetic}\p{N}_-]+/u;
const INDEX = /^\[(\d+)\]/;

/**
 * Parses a payload path such as `country.cities[].population` or `"a.b"[0]`; a malformed path is
 * bad data from a client, so it throws `ERR_PAYLOAD_INVALID`.
 *
 * @example
 * parsePayloadPath('a[].b').rest // [{ kind: 'wildcard' }, { kind: 'key', key: 'b' }]
 */
export function parsePayloadPath(text: string): PayloadPath {
  let rest = text;
  const readKey = (): string | undefined => {
    const bare = BARE_KEY.exec(rest);
    if (bare !== null) {
      rest = rest.slice(bare[0].length);
      return bare[0];
    }
    if (rest.startsWith('"')) {
      const end = rest.indexOf('"', 1);
      const body = end === -1 ? undefined : rest.slice(1, end);
      if (body === undefined || body.includes('\\')) return undefined;
      rest = rest.slice(end + 1);
      return body;
    }
    return undefined;
  };
  const first = readKey();
  if (first === undefined) throw invalidPath(text, 'it must start with a key');
  const steps: PathStep[] = [];
  while (rest !== '') {
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
      const key = readKey();
      if (key === undefined) throw invalidPath(text, 'a key must follow "."');
      steps.push({ kind: 'key', key });
    } else if (rest.startsWith('[]')) {
      rest = rest.slice(2);
      steps.push({ kind: 'wildcard' });
    } else {
      const m = INDEX.exec(rest);
      const index = m?.[1] === undefined ? NaN : Number(m[1]);
      // Qdrant parses the index as a usize and refuses the path when it overflows.
      if (m === null || !Number.isSafeInteger(index)) throw invalidPath(text, `unexpected "${rest.slice(0, 16)}"`);
      rest = rest.slice(m[0].length);
      steps.push({ kind: 'index', index });
    }
  }
  return { text, first, rest: steps };
}

/**
 * The path with `[]` appended unless it already ends so: Qdrant's `array_key`, which `nested`
 * conditions use so that `{"nested": {"key": "diet"}}` reads the elements of `diet`.
 */
export function arrayKey(path: PayloadPath): PayloadPath {
  if (path.rest.at(-1)?.kind === 'wildcard') return path;
  return { text: `${path.text}[]`, first: path.first, rest: [...path.rest, { kind: 'wildcard' }] };
}

/**
 * The values at `path` exactly as Qdrant's `value_get` returns them: an array found at the end of
 * the path is ONE value (so `is_empty`, `is_null` and `values_count` can see it whole), `[]` expands
 * an array, and a step that does not fit the value's type finds nothing.
 *
 * @example
 * rawValuesAt({ a: [{ b: [1, 2] }, { b: 3 }] }, parsePayloadPath('a[].b')) // [[1, 2], 3]
 */
export function rawValuesAt(payload: Readonly<Record<string, unknown>>, path: PayloadPath): unknown[] {
  const out: unknown[] = [];
  if (!Object.hasOwn(payload, path.first)) return out;
  // An explicit stack rather than recursion: `[]` steps fan out, and paths come from clients.
  const stack: Array<{ value: unknown; step: number }> = [{ value: payload[path.first], step: 0 }];
  while (stack.length > 0) {
    const { value, step } = stack.pop()!;
    const next = path.rest[step];
    if (next === undefined) {
      out.push(value);
    } else if (next.kind === 'key') {
      if (isObject(value) && Object.hasOwn(value, next.key)) stack.push({ value: value[next.key], step: step + 1 });
    } else if (Array.isArray(value)) {
      if (next.kind === 'index') {
        if (next.index < value.length) stack.push({ value: value[next.index], step: step + 1 });
      } else {
        // Pushed in reverse so that values come out in document order.
        for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], step: step + 1 });
      }
    }
  }
  return out;
}

/**
 * The values a `match` or `range` condition tests: those of {@link rawValuesAt}, with a value that
 * is an array contributing its elements (one level only, as Qdrant's `ValueChecker::_check`: an
 * array inside an array stays an array). Payload indexes should index exactly these values.
 *
 * @example
 * valuesAt({ tags: ['a', ['b']] }, parsePayloadPath('tags')) // ['a', ['b']]
 */
export function valuesAt(payload: Readonly<Record<string, unknown>>, path: PayloadPath): unknown[] {
  return rawValuesAt(payload, path).flatMap((v) => (Array.isArray(v) ? (v as unknown[]) : [v]));
}

/** True for a JSON object (not null, not an array): the only value a key step can enter. */
export function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidPath(text: string, why: string): StrataError<'ERR_PAYLOAD_INVALID'> {
  return new StrataError('ERR_PAYLOAD_INVALID', `payload path ${JSON.stringify(text)} is malformed: ${why}`, {
    details: { path: text },
  });
}
