/**
 * Thrown by a command that has already told the user why it failed (the shell's `--exec` prints
 * each error as it happens): the CLI exits with 1 and prints nothing more.
 */
export class ReportedFailure extends Error {
  override readonly name = 'ReportedFailure';

  constructor() {
    super('the command failed; the reason was printed');
  }
}
