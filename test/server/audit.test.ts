import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/server/audit.js';

describe('audit log of accepted tokens', () => {
  it('logs a use once per (address, tenant, jti) per window', () => {
    let now = 0;
    const audit = new AuditLog(5_000, () => now);
    expect(audit.shouldLog('10.0.0.1', 'acme', 'j1')).toBe(true);
    expect(audit.shouldLog('10.0.0.1', 'acme', 'j1')).toBe(false);
    expect(audit.shouldLog('10.0.0.2', 'acme', 'j1')).toBe(true);
    expect(audit.shouldLog('10.0.0.1', 'globex', 'j1')).toBe(true);
    expect(audit.shouldLog('10.0.0.1', 'acme', 'j2')).toBe(true);
    now = 4_999;
    expect(audit.shouldLog('10.0.0.1', 'acme', 'j1')).toBe(false);
    now = 5_000;
    expect(audit.shouldLog('10.0.0.1', 'acme', 'j1')).toBe(true);
  });
});
