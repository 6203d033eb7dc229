import { invalidArgument } from '../../errors.js';

const BLANK = new Set([' ', '\t', '\r', '\n']);
/** What `\` makes literal in the shell; other sequences (`\xNN`, `\\`) are decoded later, by printable.ts. */
const LITERAL_AFTER_BACKSLASH = new Set(['"', ' ', ';']);

/**
 * Split a shell line into commands and their arguments, as fdbcli does: `;` ends a command, blanks
 * separate arguments, and double quotes group text (blanks and `;` included) into one argument
 * (`""` is an empty one). `\"`, `\ ` and `\;` stand for the character itself. Every other
 * backslash sequence is kept as written, so that keys and values decode `\xNN` and `\\` once, in
 * one place (printable.ts), whether or not they were quoted.
 *
 * @example
 * parseLine('set "a b" \\x01; get "a b"') // [['set', 'a b', '\\x01'], ['get', 'a b']]
 */
export function parseLine(line: string): string[][] {
  const commands: string[][] = [];
  let args: string[] = [];
  let token = '';
  // An argument is open once anything of it was read, even just `""`, so an empty one survives.
  let open = false;
  let quoted = false;
  const endArgument = () => {
    if (open) args.push(token);
    token = '';
    open = false;
  };
  const endCommand = () => {
    endArgument();
    if (args.length > 0) commands.push(args);
    args = [];
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    const next = line[i + 1];
    if (ch === '\\' && next !== undefined && LITERAL_AFTER_BACKSLASH.has(next)) {
      token += next;
      open = true;
      i++;
    } else if (ch === '\\' && next === '\\') {
      // Kept whole, so the second backslash cannot escape a quote or blank after it.
      token += '\\\\';
      open = true;
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
      open = true;
    } else if (!quoted && BLANK.has(ch)) {
      endArgument();
    } else if (!quoted && ch === ';') {
      endCommand();
    } else {
      token += ch;
      open = true;
    }
  }
  if (quoted) throw invalidArgument('unterminated quote: close it with "');
  endCommand();
  return commands;
}

/** One command as the shell would read it back: arguments holding blanks, quotes or `;` are quoted. */
export function formatCommand(args: readonly string[]): string {
  return args.map(arg => (arg === '' || /[\s";]/.test(arg) ? `"${arg.replaceAll('"', '\\"')}"` : arg)).join(' ');
}
