import { StrataError } from '../errors.js';

/**
 * Keys and values on the command line, as fdbcli writes them: printable ASCII stands for itself,
 * any byte may be written `\xNN`, and a backslash is written `\\`.
 */

/** Parse a command-line key or value into bytes. */
export function parsePrintable(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== '\\') {
      for (const byte of Buffer.from(ch, 'utf8')) out.push(byte);
      continue;
    }
    const next = text[i + 1];
    if (next === '\\') {
      out.push(0x5c);
      i++;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      out.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      throw new StrataError('ERR_CLI_INVALID_ARGUMENT', `invalid escape at position ${i} in ${JSON.stringify(text)}: use \\xNN or \\\\`, {
        details: { position: i },
      });
    }
  }
  return Uint8Array.from(out);
}

/** Format bytes for the terminal: printable ASCII as is, `\` as `\\`, everything else `\xNN`. */
export function formatPrintable(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}
