import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { HTTP_STATUS } from '../../src/server/status.js';

describe('HTTP statuses', () => {
  it('give every error code a status in the 4xx or 5xx range', () => {
    for (const code of Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>) {
      expect(HTTP_STATUS[code], code).toBeGreaterThanOrEqual(400);
      expect(HTTP_STATUS[code], code).toBeLessThan(600);
    }
    expect(Object.keys(HTTP_STATUS).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('keep the statuses DESIGN §6 fixes', () => {
    expect(HTTP_STATUS.ERR_AUTH_TOKEN_MISSING).toBe(401);
    expect(HTTP_STATUS.ERR_AUTH_TOKEN_INVALID).toBe(401);
    expect(HTTP_STATUS.ERR_AUTH_TOKEN_EXPIRED).toBe(401);
    expect(HTTP_STATUS.ERR_AUTH_TOKEN_REVOKED).toBe(401);
    expect(HTTP_STATUS.ERR_AUTH_TOKEN_TOO_LARGE).toBe(401);
    expect(HTTP_STATUS.ERR_AUTH_TENANT_FORBIDDEN).toBe(403);
    expect(HTTP_STATUS.ERR_AUTH_TRUSTED_ONLY).toBe(403);
    expect(HTTP_STATUS.ERR_TENANT_EXISTS).toBe(409);
    expect(HTTP_STATUS.ERR_TENANT_NOT_EMPTY).toBe(409);
    expect(HTTP_STATUS.ERR_KV_COMPARE_FAILED).toBe(409);
  });
});
