/**
 * How every benchmark reports: a table for people, then one JSON line for tools (DESIGN §9).
 * Ratios are ours over the baseline measured in the same run; higher is better.
 */
export interface Row {
  readonly metric: string;
  readonly strata: number;
  readonly baseline: number;
  /** Where the ratio is not strata / baseline (a median of per-round ratios, say). */
  readonly ratio?: number;
  readonly unit: string;
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

export function printTable(title: string, baselineName: string, rows: readonly Row[]): void {
  const lines = [
    ['metric', 'strata', baselineName, 'ratio', 'unit'],
    ...rows.map(r => [r.metric, fmt(r.strata), fmt(r.baseline), (r.ratio ?? r.strata / r.baseline).toFixed(2), r.unit]),
  ];
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map(l => l[i]!.length)));
  console.log(`\n${title}`);
  for (const [i, line] of lines.entries()) {
    console.log(line.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  '));
    if (i === 0) console.log(widths.map(w => '-'.repeat(w)).join('  '));
  }
}

/** The last line of every benchmark: `{"bench": name, ...figures}`. */
export function printJson(bench: string, figures: Record<string, number>): void {
  const rounded = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
  console.log(JSON.stringify({ bench, ...rounded }));
}

/** Run `op` repeatedly for `ms` milliseconds; operations per second. */
export async function throughput(ms: number, op: () => Promise<number> | number): Promise<number> {
  let done = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) done += await op();
  return (done * 1000) / (performance.now() - start);
}

/** `writers` concurrent loops of `op` for `ms` milliseconds; completed operations per second. */
export async function concurrentThroughput(ms: number, writers: number, op: (writer: number, i: number) => Promise<void>): Promise<number> {
  let done = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        await op(w, i);
        done++;
      }
    }),
  );
  return (done * 1000) / (performance.now() - start);
}
