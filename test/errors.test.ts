import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isStrataError, StrataError } from '../src/errors.js';

describe('error codes', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it.each(Object.keys(ERROR_CODES))('%s is documented in the README', code => {
    expect(readme).toContain(`| \`${code}\` |`);
  });

  it('follow ERR_<AREA>_<WHAT>', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^ERR_[A-Z]+_[A-Z_]+$/);
  });

  it('carry code, details and cause, and can be narrowed by code', () => {
    const cause = new Error('low level');
    const err = new StrataError('ERR_TENANT_EXISTS', 'exists', { details: { tenant: 'a' }, cause });
    expect(err).toMatchObject({ name: 'StrataError', code: 'ERR_TENANT_EXISTS', details: { tenant: 'a' }, cause });
    expect(isStrataError(err)).toBe(true);
    expect(isStrataError(err, 'ERR_TENANT_EXISTS')).toBe(true);
    expect(isStrataError(err, 'ERR_TENANT_NOT_FOUND')).toBe(false);
    expect(isStrataError(new Error('x'))).toBe(false);
  });
});
