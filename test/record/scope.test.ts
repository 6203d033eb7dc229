import { describe, expect, it } from 'vitest';
import { changedPayload } from '../../layers/record/points-write.js';
import { inScope, withScope } from '../../layers/record/scope.js';

// Payload scopes against prototype tricks: only a payload's own fields count.
describe('payload scopes', () => {
  const scope = { tenant: 'A' };

  it('does not count an inherited field as the scoped value', () => {
    const sneaky = JSON.parse('{"__proto__": {"tenant": "A"}}') as Record<string, unknown>;
    expect(Object.hasOwn(sneaky, '__proto__')).toBe(true);
    expect(inScope(scope, sneaky)).toBe(false);
    expect(inScope(scope, Object.create({ tenant: 'A' }) as Record<string, unknown>)).toBe(false);
    expect(inScope(scope, { tenant: 'A' })).toBe(true);
  });

  it('refuses a set that removes the scoped field through __proto__, and keeps such keys as plain fields', () => {
    const change = { kind: 'set' as const, payload: JSON.parse('{"tenant": null, "__proto__": {"tenant": "A"}}') as Record<string, unknown> };
    expect(() => changedPayload({ tenant: 'A' }, change, scope)).toThrow(expect.objectContaining({ code: 'ERR_ACCESS_PAYLOAD_SCOPE' }));
    const plain = changedPayload({ tenant: 'A' }, { kind: 'set', payload: JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown> }, scope);
    expect(Object.hasOwn(plain, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(withScope(scope, JSON.parse('{"__proto__": {"tenant": "A"}}') as Record<string, unknown>)).toMatchObject({ tenant: 'A' });
    expect(Object.hasOwn(withScope(scope, {}), 'tenant')).toBe(true);
  });
});
