import { describe, expect, it } from 'vitest';
import {
  RESTORE_MARKERS,
  TENANT_BY_ID,
  TENANT_BY_NAME,
  TENANT_COUNT_KEY,
  TENANT_KEY_SIZE_LIMIT,
  TENANT_LAST_ID_KEY,
  TENANT_LIMITS,
  tenantPrefix,
} from '../../src/tenancy/layout.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('tenancy on-disk layout (golden bytes: changing these orphans existing data)', () => {
  it('puts tenant data at \\xfd + the 8-byte big-endian id', () => {
    expect(hex(tenantPrefix(1n))).toBe('fd0000000000000001');
    expect(hex(tenantPrefix(0x0102030405060708n))).toBe('fd0102030405060708');
    expect(TENANT_KEY_SIZE_LIMIT).toBe(1968);
  });

  it('keeps the registry in the \\xfe system subspace under tuple keys', () => {
    expect(hex(TENANT_BY_NAME.pack([Buffer.from('acme')]))).toBe('fe' + '0274656e616e7400' + '026279' + '5f6e616d6500' + '0161636d6500');
    expect(hex(TENANT_BY_ID.prefix)).toBe('fe' + '0274656e616e7400' + '0262795f696400');
    expect(hex(TENANT_LAST_ID_KEY)).toBe('fe' + '0274656e616e7400' + '026c6173745f696400');
    expect(hex(TENANT_COUNT_KEY)).toBe('fe' + '0274656e616e7400' + '02636f756e7400');
    expect(hex(RESTORE_MARKERS.prefix)).toBe('fe' + '02736e617073686f7400' + '02726573746f726500');
    expect(hex(TENANT_LIMITS.pack([Buffer.from('acme')]))).toBe('fe' + '0274656e616e7400' + '026c696d69747300' + '0161636d6500');
  });
});
