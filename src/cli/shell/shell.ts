import { createInterface, type Interface } from 'node:readline';
import type { ShellContext, ShellState } from './command.js';
import { describeError, runCommand, SHELL_COMMANDS } from './commands.js';
import { formatCommand, parseLine } from './parse.js';

/** The prompt, naming the tenant in use as fdbcli's does. */
export function promptOf(state: ShellState): string {
  return state.tenant === undefined ? 'strata> ' : `strata/${state.tenant}> `;
}

/**
 * Run one line: its `;`-separated commands in order, stopping at the first that fails (as fdbcli
 * does: `usetenant typo; clearrange "" \xff` must not go on to clear the raw keyspace). With more
 * than one command, each is echoed before it runs, so the output says which printed what.
 * Returns whether every command ran and succeeded.
 */
export async function runLine(ctx: ShellContext, line: string): Promise<boolean> {
  let commands: string[][];
  try {
    commands = parseLine(line);
  } catch (err) {
    ctx.output.err(describeError(err));
    return false;
  }
  for (const [i, words] of commands.entries()) {
    if (commands.length > 1) ctx.output.out(`>>> ${formatCommand(words)}`);
    if (!(await runCommand(ctx, words))) {
      if (i < commands.length - 1) ctx.output.out('WARNING: the previous command failed, the remaining commands will not be executed.');
      return false;
    }
    if (ctx.state.exited) break;
  }
  return true;
}

/** Complete the command name being typed (`tenant c` to `tenant create`). */
function completeCommand(line: string): [string[], string] {
  const names = SHELL_COMMANDS.map(c => c.name).filter(name => name.startsWith(line));
  return [names.map(name => `${name} `), line];
}

/** Ctrl-C drops the line being typed and shows a fresh prompt, as a shell does; Ctrl-D leaves. */
function dropLineOnInterrupt(rl: Interface, terminal: NodeJS.WritableStream, busy: () => boolean): void {
  rl.on('SIGINT', () => {
    if (busy()) return; // a command is running: the prompt comes back when it ends
    rl.write(null, { ctrl: true, name: 'e' });
    terminal.write('^C\n');
    rl.write(null, { ctrl: true, name: 'u' });
    rl.prompt();
  });
}

/**
 * The interactive loop: read lines with history and completion, run each, until `exit`, `quit` or
 * end of input. On a terminal it greets and prompts; from a pipe it reads commands silently and
 * returns false if any line failed (a person at a terminal has seen each error already, and the
 * session itself succeeded, as with fdbcli).
 */
export async function runInteractive(
  ctx: ShellContext,
  io: { readonly input: NodeJS.ReadableStream; readonly terminal: NodeJS.WritableStream; readonly greeting: string },
): Promise<boolean> {
  const { input, terminal } = io;
  const isTerminal = 'isTTY' in input && input.isTTY === true;
  if (isTerminal) ctx.output.out(io.greeting);
  const rl = createInterface({ input, output: terminal, terminal: isTerminal, historySize: 1000, removeHistoryDuplicates: true, completer: completeCommand });
  // As fdbcli: a line that turns writes on is kept out of the history, so it is never re-run by accident.
  rl.on('history', (history: string[]) => {
    if (history[0]?.includes('writemode') === true) history.shift();
  });
  let busy = false;
  dropLineOnInterrupt(rl, terminal, () => busy);
  let allSucceeded = true;
  const prompt = () => {
    rl.setPrompt(promptOf(ctx.state));
    // Keeping the cursor where it is: after text typed while a command ran, not before it.
    if (isTerminal) rl.prompt(true);
  };
  prompt();
  let endedByInput = true;
  for await (const line of rl) {
    busy = true;
    allSucceeded = (await runLine(ctx, line)) && allSucceeded;
    busy = false;
    if (ctx.state.exited) {
      endedByInput = false;
      break;
    }
    prompt();
  }
  rl.close();
  // Ctrl-D leaves the cursor after the prompt: end the line there, as fdbcli does.
  if (endedByInput && isTerminal) terminal.write('\n');
  return allSucceeded || isTerminal;
}
