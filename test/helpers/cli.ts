import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What a run of the `strata` command gave. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));

/** Run the built `strata` command in a process of its own, as a user would. */
export function runStrata(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  return new Promise(resolve => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...options.env }, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}
