/**
 * Progress of a snapshot or restore for people: on a terminal one line redrawn in place (bytes, points,
 * rate, time left when the total is known); elsewhere (a log, a pipe) a plain line every few seconds,
 * so logs stay readable and a supervisor can see it is alive.
 */

/** Where progress goes. */
export interface ProgressOutput {
  /** A terminal to redraw one line on; absent: plain lines through `line`. */
  readonly tty?: { write(text: string): unknown };
  /** Writes one plain line. */
  line(text: string): void;
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Total bytes expected (a file being restored); absent when unknown (a snapshot being written). */
  readonly total?: number;
  readonly now?: () => number;
  /** Least ms between plain lines (default 2000); terminal redraws are ten a second at most. */
  readonly intervalMs?: number;
}

/** A progress line, for one operation. */
export class Progress {
  readonly #label: string;
  readonly #out: ProgressOutput;
  readonly #total: number | undefined;
  readonly #now: () => number;
  readonly #interval: number;
  readonly #start: number;
  #last = Number.NEGATIVE_INFINITY;
  #bytes = 0;
  #points = 0;

  constructor(label: string, out: ProgressOutput, options: ProgressOptions = {}) {
    this.#label = label;
    this.#out = out;
    this.#total = options.total;
    this.#now = options.now ?? Date.now;
    this.#interval = out.tty === undefined ? (options.intervalMs ?? 2000) : 100;
    this.#start = this.#now();
  }

  /** Report how far it has got; shown when the last line is old enough. */
  update(bytes: number, points: number): void {
    this.#bytes = bytes;
    this.#points = points;
    const at = this.#now();
    if (at - this.#last < this.#interval) return;
    this.#last = at;
    this.#show(this.#describe(at));
  }

  /** The last line, with `outcome` after it (a terminal line is ended). */
  finish(outcome: string): void {
    const text = `${this.#describe(this.#now())}: ${outcome}`;
    if (this.#out.tty !== undefined) this.#out.tty.write(`\r${text}\x1b[K\n`);
    else this.#out.line(text);
  }

  #show(text: string): void {
    if (this.#out.tty !== undefined) this.#out.tty.write(`\r${text}\x1b[K`);
    else this.#out.line(text);
  }

  #describe(at: number): string {
    const seconds = Math.max(0.001, (at - this.#start) / 1000);
    const rate = this.#bytes / seconds;
    const parts = [this.#total === undefined ? formatBytes(this.#bytes) : `${formatBytes(this.#bytes)} of ${formatBytes(this.#total)} (${percent(this.#bytes, this.#total)})`];
    parts.push(`${this.#points.toLocaleString('en-US')} points`, `${formatBytes(rate)}/s`);
    if (this.#total !== undefined && rate > 0) parts.push(`${formatDuration(Math.max(0, this.#total - this.#bytes) / rate)} left`);
    else parts.push(`${formatDuration(seconds)} elapsed`);
    return `${this.#label}: ${parts.join(', ')}`;
  }
}

/** Bytes as people read them: 512 B, 1.5 KiB, 12.3 MiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Seconds as `42s`, `3m05s` or `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '100%' : `${Math.min(100, Math.floor((part / whole) * 100))}%`;
}
