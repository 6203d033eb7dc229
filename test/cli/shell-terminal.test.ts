import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

// `strata cli` driven as a person drives it: the built command in a terminal (a tmux pane), keys
// typed into it, and the screen read back.

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** A private tmux server, its socket at `socket`, with one 120x40 pane running `command`. */
class Terminal {
  readonly #socket: string;

  constructor(socket: string) {
    this.#socket = socket;
  }

  async start(command: string): Promise<void> {
    // remain-on-exit keeps the screen readable after the program ends; the echo shows how it ended.
    await this.#tmux('new-session', '-d', '-s', 'shell', '-x', '120', '-y', '40', `${command}; echo "[exit status $?]"`, ';', 'set-window-option', '-t', 'shell', 'remain-on-exit', 'on');
  }

  /** Type text (as keystrokes, not interpreted as key names), optionally followed by Enter. */
  async type(text: string, enter = true): Promise<void> {
    await this.#tmux('send-keys', '-t', 'shell', '-l', text);
    if (enter) await this.keys('Enter');
  }

  /** Press keys by name: Enter, Up, C-c, C-d. */
  async keys(...names: string[]): Promise<void> {
    await this.#tmux('send-keys', '-t', 'shell', ...names);
  }

  /** The screen and its scrollback, trailing blank lines dropped. */
  async screen(): Promise<string> {
    const { stdout } = await this.#tmux('capture-pane', '-p', '-t', 'shell', '-S', '-200');
    return stdout.replace(/\s+$/, '');
  }

  /** Wait until the screen satisfies `ready`, or fail showing what the screen held. */
  async waitFor(ready: (screen: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (ready(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen shows:\n${screen}`);
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  }

  /** Wait until the last line of the screen is exactly `line` (a prompt waiting for input). */
  waitForLastLine(line: string): Promise<string> {
    return this.waitFor(screen => screen.split('\n').at(-1) === line.trimEnd(), `the last line to be ${JSON.stringify(line)}`);
  }

  /** Wait until `text` appears `times` times on the screen. */
  waitForText(text: string, times = 1): Promise<string> {
    return this.waitFor(screen => screen.split(text).length - 1 >= times, `${JSON.stringify(text)} (x${times})`);
  }

  async close(): Promise<void> {
    await this.#tmux('kill-server').catch(() => undefined);
  }

  #tmux(...args: string[]) {
    return run('tmux', ['-S', this.#socket, '-f', '/dev/null', ...args], { env: { ...process.env, TERM: 'xterm-256color' } });
  }
}

describe('strata cli in a terminal', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let term: Terminal;
  beforeEach(async () => {
    ({ dir, remove } = await tempDir('strata-shell-tty'));
    await run(process.execPath, [bin, 'init', '--data-dir', dir]);
    // The socket lives in the test's directory, so removing the directory leaves nothing behind.
    term = new Terminal(join(dir, 'tmux.sock'));
    await term.start(`${quote(process.execPath)} ${quote(bin)} cli --data-dir ${quote(dir)}`);
  });
  afterEach(async () => {
    await term.close();
    await remove();
  });

  it('prompts, refuses writes until writemode on, sets and gets, and changes prompt with usetenant', async () => {
    const greeting = await term.waitForLastLine('strata> ');
    expect(greeting).toContain(`Using the embedded store in \`${dir}'.`);
    expect(greeting).toContain("Welcome to the Strata shell. For help, type `help'.");

    await term.type('set greeting hello');
    await term.waitForText('ERROR: writemode must be enabled to set or clear keys in the database.');
    await term.waitForLastLine('strata> ');

    await term.type('writemode on');
    await term.type('set greeting "hello world"');
    await term.waitForText("Committed: `greeting' is `hello world'");
    await term.type('get greeting');
    await term.waitForText("`greeting' is `hello world'", 2);

    await term.type('tenant create acme');
    await term.waitForText("The tenant `acme' has been created with id 0000000000000001");
    await term.type('usetenant acme');
    await term.waitForLastLine('strata/acme> ');

    // History: Up three times brings back `get greeting`.
    await term.keys('Up', 'Up', 'Up');
    await term.waitForLastLine('strata/acme> get greeting');
    await term.keys('Enter');
    await term.waitForText("`greeting': not found");

    // `writemode on` was kept out of the history (as fdbcli does): five lines back is the first set.
    await term.keys('Up', 'Up', 'Up', 'Up', 'Up');
    await term.waitForLastLine('strata/acme> set greeting hello');
    // Ctrl-C drops the recalled line without running it.
    await term.keys('C-c');
    await term.waitForLastLine('strata/acme> ');

    // An error keeps the shell running.
    await term.type('fetch greeting');
    await term.waitForText("ERROR: Unknown command `fetch'. Try `help'?");
    await term.type('defaulttenant');
    await term.waitForLastLine('strata> ');
    await term.type('get greeting');
    await term.waitForText("`greeting' is `hello world'", 3);

    await term.type('exit');
    const end = await term.waitForText('[exit status 0]');
    expect(end).toContain('strata/acme> set greeting hello^C');
    expect(end).not.toContain("Committed: `greeting' is `hello'");
  });

  it('leaves on Ctrl-D at an empty prompt, with exit status 0', async () => {
    await term.waitForLastLine('strata> ');
    await term.keys('C-d');
    await term.waitForText('[exit status 0]');
  });
});
