import { Command, CommanderError } from 'commander';
import { isStrataError } from '../errors.js';
import { VERSION } from '../version.js';
import { keysCommand } from './commands/keys.js';
import { addKeysRotate, apikeyCommand } from './commands/apikey.js';
import { certsCommand } from './commands/certs.js';
import { cliCommand } from './commands/cli.js';
import { kvCommand } from './commands/kv.js';
import { serveCommand } from './commands/serve.js';
import { backupCommand, snapshotCommand } from './commands/snapshot.js';
import { initCommand, statusCommand } from './commands/status.js';
import { tenantCommand } from './commands/tenant.js';
import { tokenCommand } from './commands/token.js';
import { ReportedFailure } from './failure.js';
import { processOutput, type Output } from './output.js';

/** Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The `strata` program. */
export function buildProgram(output: Output = processOutput): Command {
  const program = new Command('strata')
    .description('Strata: a multi-tenant key-value and vector store on FoundationDB or an embedded engine')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: s => output.out(s.trimEnd()), writeErr: s => output.err(s.trimEnd()) })
    .exitOverride()
    .addCommand(serveCommand(output))
    .addCommand(initCommand(output))
    .addCommand(statusCommand(output))
    .addCommand(tenantCommand(output))
    .addCommand(kvCommand(output))
    .addCommand(snapshotCommand(output))
    .addCommand(backupCommand(output))
    .addCommand(cliCommand(output))
    .addCommand(certsCommand(output))
    .addCommand(withRotate(keysCommand(output), output))
    .addCommand(apikeyCommand(output))
    .addCommand(tokenCommand(output));
  program.addHelpText(
    'after',
    `
Keys and values: printable text stands for itself; write any byte as \\xNN and a backslash as \\\\.
Without --data-dir or --cluster-file, commands use $STRATA_DATA_DIR or ./data (the embedded engine).

Examples:
  strata tenant create acme
  strata kv set --tenant acme 'user\\x0042' 'Ada'
  strata kv getrange --tenant acme user`,
  );
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ writeOut: s => output.out(s.trimEnd()), writeErr: s => output.err(s.trimEnd()) });
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput({ writeOut: s => output.out(s.trimEnd()), writeErr: s => output.err(s.trimEnd()) });
    }
  }
  return program;
}

/** Run the CLI on `argv` (process.argv form) and return the exit code. */
export async function runCli(argv: readonly string[], output: Output = processOutput): Promise<number> {
  try {
    await buildProgram(output).parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end this way too, successfully.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof ReportedFailure) return EXIT.failed;
    if (isStrataError(err)) {
      output.err(`strata: ${err.code}: ${err.message}`);
      return err.code === 'ERR_CLI_INVALID_ARGUMENT' ? EXIT.usage : EXIT.failed;
    }
    output.err(`strata: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}

function withRotate(keys: Command, output: Output): Command {
  addKeysRotate(keys, output);
  return keys;
}
