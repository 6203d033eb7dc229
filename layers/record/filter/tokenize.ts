/**
 * The word tokenizer behind `match.text`, `text_any` and `phrase`, shared with the full-text payload
 * index so that what the index finds and what the filter checks agree.
 *
 * Like Qdrant's default `word` tokenizer with `lowercase: true`: a token is a maximal run of letters
 * and digits (Unicode), lowercased; everything else separates tokens (so `_` and `-` do).
 */

const SEPARATORS = /[^\p{Alphabetic}\p{N}]+/u;

/**
 * The tokens of `text`, in order, duplicates kept (phrase matching needs both).
 *
 * @example
 * tokenize('Hello, WORLD_wide-web 2') // ['hello', 'world', 'wide', 'web', '2']
 */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(SEPARATORS)
    .filter((t) => t !== '');
}
