import { describe, expect, it } from 'vitest';
import { formatPrintable, parsePrintable } from '../../src/cli/printable.js';

describe('fdbcli-style printable keys', () => {
  it('parses \\xNN escapes and \\\\', () => {
    expect([...parsePrintable('a\\x00b\\xFF\\\\c')]).toEqual([0x61, 0x00, 0x62, 0xff, 0x5c, 0x63]);
    expect([...parsePrintable('')]).toEqual([]);
    expect([...parsePrintable('é')]).toEqual([0xc3, 0xa9]);
  });

  it('refuses a malformed escape with ERR_CLI_INVALID_ARGUMENT', () => {
    for (const bad of ['\\', '\\x', '\\x1', '\\xZZ', '\\n', 'a\\']) {
      expect(() => parsePrintable(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_CLI_INVALID_ARGUMENT' }));
    }
  });

  it('formats printable ASCII as is and everything else as \\xNN, round-tripping', () => {
    const bytes = Uint8Array.from([0x00, 0x20, 0x41, 0x5c, 0x7e, 0x7f, 0xfe]);
    expect(formatPrintable(bytes)).toBe('\\x00 A\\\\~\\x7f\\xfe');
    expect([...parsePrintable(formatPrintable(bytes))]).toEqual([...bytes]);
  });
});
