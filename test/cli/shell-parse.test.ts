import { describe, expect, it } from 'vitest';
import { parsePrintable } from '../../src/cli/printable.js';
import { formatCommand, parseLine } from '../../src/cli/shell/parse.js';

describe('the shell line parser (fdbcli quoting)', () => {
  it('splits commands at ; and arguments at blanks', () => {
    expect(parseLine('get a')).toEqual([['get', 'a']]);
    expect(parseLine('  writemode on ;set a b;; get a  ')).toEqual([['writemode', 'on'], ['set', 'a', 'b'], ['get', 'a']]);
    expect(parseLine('')).toEqual([]);
    expect(parseLine(' \t ')).toEqual([]);
  });

  it('groups quoted text, ; and blanks included, and keeps an empty quoted argument', () => {
    expect(parseLine('set "a b" "x; y"')).toEqual([['set', 'a b', 'x; y']]);
    expect(parseLine('getrange "" \\xff')).toEqual([['getrange', '', '\\xff']]);
    expect(parseLine('set pre"fix suf"fix v')).toEqual([['set', 'prefix suffix', 'v']]);
  });

  it('makes \\", \\ and \\; literal and leaves \\xNN and \\\\ for the key decoder', () => {
    expect(parseLine('set a\\ b "say \\"hi\\"" x\\;y')).toEqual([['set', 'a b', 'say "hi"', 'x;y']]);
    const [[, key]] = parseLine('get \\x00\\\\"q"') as [[string, string]];
    expect(key).toBe('\\x00\\\\q');
    expect([...parsePrintable(key)]).toEqual([0x00, 0x5c, 0x71]);
    // The second backslash of \\ does not escape the quote after it: the quote still closes.
    expect(parseLine('set "a\\\\" b')).toEqual([['set', 'a\\\\', 'b']]);
  });

  it('refuses an unterminated quote with ERR_CLI_INVALID_ARGUMENT', () => {
    expect(() => parseLine('set "a b')).toThrow(expect.objectContaining({ code: 'ERR_CLI_INVALID_ARGUMENT' }));
    expect(() => parseLine('set a\\" b"')).toThrow(expect.objectContaining({ code: 'ERR_CLI_INVALID_ARGUMENT' }));
  });

  it('formats a command so that parsing it again gives the same arguments', () => {
    const args = ['set', 'a b', '', 'say "hi"', 'x;y', '\\x00'];
    expect(formatCommand(args)).toBe('set "a b" "" "say \\"hi\\"" "x;y" \\x00');
    expect(parseLine(formatCommand(args))).toEqual([args]);
  });
});
