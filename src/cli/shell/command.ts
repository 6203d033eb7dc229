import { invalidArgument } from '../../errors.js';
import type { Output } from '../output.js';
import type { CliStore } from '../store.js';

/** What a shell session remembers between commands. */
export interface ShellState {
  /** Whether writes are allowed: off when the shell starts, as in fdbcli, until `writemode on`. */
  writeMode: boolean;
  /** The tenant whose keyspace key commands work in (`usetenant`); undefined for the raw keyspace. */
  tenant: string | undefined;
  /** Set by `exit` and `quit`: the shell runs nothing more. */
  exited: boolean;
}

/** What a command runs against. */
export interface ShellContext {
  readonly store: CliStore;
  readonly output: Output;
  readonly state: ShellState;
}

/** One command of the shell, with what `help` says about it. */
export interface ShellCommand {
  /** One word, or a group and a word (`tenant create`). */
  readonly name: string;
  /** The arguments as usage shows them; words in brackets are optional (`BEGIN [END] [LIMIT]`). */
  readonly args: string;
  /** One line for `help`. */
  readonly summary: string;
  /** More for `help NAME`, when one line does not say it all. */
  readonly details?: string;
  /** Refused until `writemode on`. */
  readonly writes: boolean;
  /** Runs with as many arguments as `args` allows (checked before). */
  run(ctx: ShellContext, args: readonly string[]): Promise<void>;
}

/** The usage line of a command: `get KEY`. */
export function usage(command: ShellCommand): string {
  return command.args === '' ? command.name : `${command.name} ${command.args}`;
}

/** Refuse a call whose argument count `command.args` does not allow. */
export function checkArgumentCount(command: ShellCommand, args: readonly string[]): void {
  const words = command.args === '' ? [] : command.args.split(' ');
  const required = words.filter(w => !w.startsWith('[')).length;
  if (args.length < required || args.length > words.length) throw invalidArgument(`usage: ${usage(command)}`);
}
