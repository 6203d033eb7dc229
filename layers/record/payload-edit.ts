import { parsePayloadPath, type PathStep } from './payload-path.js';
import { defineField } from './scope.js';
import { fail, isPlainObject } from './validate.js';

/**
 * Changes to payloads as Qdrant makes them: keys are paths (`meta.secret`, `tags[0]`, `a[].b`), so
 * deleting or hiding a nested field reaches it rather than looking for a top-level key with a dot.
 */

/** The deepest nesting a payload may have: deeper ones are refused before anything recurses. */
export const MAX_PAYLOAD_DEPTH = 64;

/** Refuse a payload nested deeper than {@link MAX_PAYLOAD_DEPTH} (checked without recursion). */
export function checkPayloadDepth(payload: unknown, where: string): void {
  const stack: Array<[unknown, number]> = [[payload, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_PAYLOAD_DEPTH) fail('ERR_PAYLOAD_INVALID', where, `a payload may nest at most ${MAX_PAYLOAD_DEPTH} levels`);
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
}

/** A copy of `payload` without what `key` (a payload path) names; the caller's object is not changed. */
export function withoutPath(payload: Readonly<Record<string, unknown>>, key: string): Record<string, unknown> {
  const path = parsePayloadPath(key);
  const out = structuredClone(payload) as Record<string, unknown>;
  removeAt(out, [{ kind: 'key', key: path.first }, ...path.rest], 0);
  return out;
}

function removeAt(value: unknown, steps: readonly PathStep[], i: number): void {
  const step = steps[i];
  if (step === undefined) return;
  const last = i === steps.length - 1;
  switch (step.kind) {
    case 'key':
      if (!isPlainObject(value) || !Object.hasOwn(value, step.key)) return;
      if (last) delete value[step.key];
      else removeAt(value[step.key], steps, i + 1);
      return;
    case 'index':
      if (!Array.isArray(value) || step.index >= value.length) return;
      if (last) value.splice(step.index, 1);
      else removeAt(value[step.index], steps, i + 1);
      return;
    case 'wildcard':
      if (!Array.isArray(value)) return;
      if (last) value.length = 0;
      else for (const element of value) removeAt(element, steps, i + 1);
      return;
  }
}

/** `payload` with `changes` merged in at the top level, as Qdrant's set payload: null removes a key. */
export function mergePayload(payload: Readonly<Record<string, unknown>>, changes: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) defineField(out, key, value);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete out[key];
    else defineField(out, key, value);
  }
  return out;
}
