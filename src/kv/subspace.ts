import { concatBytes, hasPrefix, prefixEnd } from './keys.js';
import { pack, unpack, type Tuple, type TupleItem } from './tuple.js';

/**
 * A subspace: a key prefix under which tuples are packed, as in FoundationDB's bindings. Layers
 * keep their data in subspaces so that their keys never collide and ranges stay contiguous.
 *
 * @example
 * const users = new Subspace(pack(['users']));
 * tx.set(users.pack([42, 'name']), value);
 * const { begin, end } = users.range([42]); // everything about user 42
 */
export class Subspace {
  readonly prefix: Uint8Array;

  constructor(prefix: Uint8Array = new Uint8Array(0)) {
    this.prefix = Uint8Array.from(prefix);
  }

  /** The subspace for `items` within this one. */
  subspace(items: readonly TupleItem[]): Subspace {
    return new Subspace(this.pack(items));
  }

  /** The key for `items` in this subspace. */
  pack(items: readonly TupleItem[]): Uint8Array {
    return concatBytes(this.prefix, pack(items));
  }

  /** The tuple a key of this subspace holds. Throws if the key is not in the subspace. */
  unpack(key: Uint8Array): Tuple {
    if (!this.contains(key)) {
      throw new RangeError('key is not in this subspace');
    }
    return unpack(key.subarray(this.prefix.length));
  }

  /** True when `key` is in this subspace. */
  contains(key: Uint8Array): boolean {
    return hasPrefix(key, this.prefix);
  }

  /**
   * The range of keys in this subspace under `items` (all of the subspace when `items` is empty),
   * raw-prefix style: it includes the prefix key itself followed by anything.
   */
  range(items: readonly TupleItem[] = []): { begin: Uint8Array; end: Uint8Array } {
    const begin = items.length === 0 ? this.prefix : this.pack(items);
    return { begin, end: prefixEnd(begin) };
  }
}
