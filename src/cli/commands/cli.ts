import { Command } from 'commander';
import { dataDirOf } from '../connect.js';
import { ReportedFailure } from '../failure.js';
import type { Output } from '../output.js';
import type { ShellContext } from '../shell/command.js';
import { runInteractive, runLine } from '../shell/shell.js';
import { openCliStore } from '../store.js';
import { serverOptions, storeOptions, withStoreOptions } from './options.js';

/** Where the session works, in fdbcli's words ("Using cluster file `…'."). */
function describeStore(opts: Record<string, unknown>): string {
  if (typeof opts['server'] === 'string') return `Using the server \`${opts['server']}'.`;
  const where = storeOptions(opts);
  if (where.clusterFile !== undefined) return `Using cluster file \`${where.clusterFile}'.`;
  return `Using the embedded store in \`${dataDirOf(where)}'.`;
}

/**
 * `strata cli`: an fdbcli-style shell on one store (local or a server), interactive or running
 * `--exec` commands.
 */
export function cliCommand(output: Output, input: NodeJS.ReadableStream = process.stdin, terminal: NodeJS.WritableStream = process.stdout): Command {
  return withStoreOptions(new Command('cli').description('an interactive shell, as fdbcli: get, set, getrange, tenants, usetenant, status'))
    .option('-e, --exec <commands>', 'run these ;-separated commands and exit: 0 if all succeeded, 1 at the first that failed')
    .addHelpText(
      'after',
      `
Writes (set, clear, clearrange, tenant create|delete|rename) are refused until \`writemode on\`,
in --exec too. Type \`help' in the shell for every command.

Examples:
  strata cli
  strata cli --exec 'writemode on; tenant create acme; usetenant acme; set greeting "hello world"; get greeting'
  strata cli --server https://localhost:6333 --exec 'tenant list'`,
    )
    .action(async opts => {
      const store = await openCliStore(storeOptions(opts), serverOptions(opts));
      const ctx: ShellContext = { store, output, state: { writeMode: false, tenant: undefined, exited: false } };
      let succeeded: boolean;
      try {
        if (typeof opts.exec === 'string') {
          succeeded = await runLine(ctx, opts.exec);
        } else {
          const greeting = `${describeStore(opts)}\n\nWelcome to the Strata shell. For help, type \`help'.`;
          succeeded = await runInteractive(ctx, { input, terminal, greeting });
        }
      } finally {
        await store.close();
      }
      if (!succeeded) throw new ReportedFailure();
    });
}
