import { invalidArgument, isStrataError } from '../../errors.js';
import { checkArgumentCount, usage, type ShellCommand, type ShellContext } from './command.js';
import { KEY_COMMANDS } from './keys.js';
import { TENANT_COMMANDS } from './tenants.js';

/** fdbcli's words, so that people and scripts that know fdbcli recognise them. */
export const WRITEMODE_REFUSAL = 'ERROR: writemode must be enabled to set or clear keys in the database.';
const unknownCommand = (word: string) => `ERROR: Unknown command \`${word}'. Try \`help'?`;

const ESCAPING = `Blanks separate arguments and ; separates commands. To put a blank or ; in an argument,
quote it ("hello world") or write a backslash before it (hello\\ world); write a quotation mark
as \\". In keys, values and tenant names, write any byte as \\xNN and a backslash as \\\\
(a\\x00b, "with space\\xff"). Keys and values print the same way: printable ASCII as itself,
everything else as \\xNN.`;

const SESSION_COMMANDS: readonly ShellCommand[] = [
  {
    name: 'writemode',
    args: 'on|off',
    summary: 'allow (on) or refuse (off) commands that write; off when the shell starts',
    details: 'set, clear, clearrange and tenant create, delete and rename are refused until `writemode on`.',
    writes: false,
    run: async (ctx, [mode]) => {
      if (mode !== 'on' && mode !== 'off') throw invalidArgument('usage: writemode on|off');
      ctx.state.writeMode = mode === 'on';
    },
  },
  {
    name: 'status',
    args: '',
    summary: 'print the engine, where the store is, and how many tenants it holds',
    writes: false,
    run: async ctx => {
      const { engine, location, tenants } = await ctx.store.status();
      ctx.output.out(`Engine: ${engine} (${location})`);
      ctx.output.out(`Tenants: ${tenants}`);
    },
  },
  {
    name: 'help',
    args: '[COMMAND]',
    summary: 'list the commands, or explain one (`help escaping` explains quoting and \\xNN)',
    writes: false,
    run: async (ctx, words) => printHelp(ctx, words[0]),
  },
  { name: 'exit', args: '', summary: 'leave the shell (so does Ctrl-D)', writes: false, run: async ctx => leave(ctx) },
  { name: 'quit', args: '', summary: 'leave the shell', writes: false, run: async ctx => leave(ctx) },
];

/** Every command, in the order `help` lists them. */
export const SHELL_COMMANDS: readonly ShellCommand[] = [...KEY_COMMANDS, ...TENANT_COMMANDS, ...SESSION_COMMANDS];

function leave(ctx: ShellContext): void {
  ctx.state.exited = true;
}

function printHelp(ctx: ShellContext, topic: string | undefined): void {
  const out = ctx.output;
  if (topic === 'escaping') return out.out(ESCAPING);
  if (topic === undefined) {
    const width = Math.max(...SHELL_COMMANDS.map(c => usage(c).length)) + 2;
    out.out('List of commands:\n');
    for (const c of SHELL_COMMANDS) out.out(`  ${usage(c).padEnd(width)}${c.summary}`);
    out.out("\nFor help on one command, type `help COMMAND'; on quoting and escapes, `help escaping'.");
    return;
  }
  const matches = SHELL_COMMANDS.filter(c => c.name === topic || c.name.startsWith(`${topic} `));
  if (matches.length === 0) throw invalidArgument(`no command \`${topic}'; type \`help' for the list`);
  for (const c of matches) {
    out.out(`${usage(c)}\n\n  ${c.summary}${c.writes ? '\n  (a write: needs `writemode on`)' : ''}`);
    if (c.details !== undefined) out.out(`\n${c.details.replace(/^/gm, '  ')}`);
    if (c !== matches[matches.length - 1]) out.out('');
  }
}

/** The command `words` start with, one word (`get`) or a group and a word (`tenant create`). */
function findCommand(words: readonly string[]): { command: ShellCommand; args: readonly string[] } | undefined {
  const [first, second] = words;
  const pair = SHELL_COMMANDS.find(c => c.name === `${first} ${second}`);
  if (pair !== undefined) return { command: pair, args: words.slice(2) };
  const single = SHELL_COMMANDS.find(c => c.name === first);
  if (single !== undefined) return { command: single, args: words.slice(1) };
  const group = SHELL_COMMANDS.filter(c => c.name.startsWith(`${first} `));
  if (group.length > 0) {
    const verbs = group.map(c => c.name.slice(`${first} `.length)).join('|');
    throw invalidArgument(`usage: ${first} ${verbs} …; type \`help ${first}' for details`);
  }
  return undefined;
}

/** How the shell prints a failure: `ERROR: CODE: reason`, the code stable for scripts. */
export function describeError(err: unknown): string {
  if (isStrataError(err)) return `ERROR: ${err.code}: ${err.message}`;
  return `ERROR: unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Run one command (its words as parsed). Failures are printed, not thrown, so the shell goes on;
 * the result says whether the command succeeded.
 */
export async function runCommand(ctx: ShellContext, words: readonly string[]): Promise<boolean> {
  try {
    const found = findCommand(words);
    if (found === undefined) {
      ctx.output.err(unknownCommand(words[0] ?? ''));
      return false;
    }
    // Checked before the arguments, as fdbcli does: a write never gets as far as being parsed.
    if (found.command.writes && !ctx.state.writeMode) {
      ctx.output.err(WRITEMODE_REFUSAL);
      return false;
    }
    checkArgumentCount(found.command, found.args);
    await found.command.run(ctx, found.args);
    return true;
  } catch (err) {
    ctx.output.err(describeError(err));
    return false;
  }
}
