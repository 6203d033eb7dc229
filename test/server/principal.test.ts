import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { presentedToken } from '../../src/server/principal.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;

describe('presentedToken', () => {
  it('takes a Bearer token whatever the scheme’s case, trimmed', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect(presentedToken(request({ authorization: `${scheme} abc.def.ghi ` }))).toBe('abc.def.ghi');
    }
  });

  it('takes Qdrant’s api-key header when there is no bearer token', () => {
    expect(presentedToken(request({ 'api-key': ' abc.def.ghi' }))).toBe('abc.def.ghi');
    expect(presentedToken(request({ authorization: 'Basic dXNlcjpwYXNz', 'api-key': 'k' }))).toBe('k');
  });

  it('finds no token in other schemes or a scheme without its space', () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearerabc', 'Bearer', 'Bear abc', 'xBearer abc', '']) {
      expect(presentedToken(request({ authorization }))).toBeUndefined();
    }
    expect(presentedToken(request({}))).toBeUndefined();
  });
});
