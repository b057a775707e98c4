/** Numbers for the benchmark table: timings are collected as samples, summarised by median and p99. */

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Milliseconds per call of `action`, `runs` times after `warmup` unmeasured calls. */
export function timeSync(action: () => unknown, runs: number, warmup = Math.min(runs, 50)): number[] {
  for (let i = 0; i < warmup; i++) action();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    action();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples;
}

export async function timeAsync(action: () => Promise<unknown>, runs: number, warmup = Math.min(runs, 3)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await action();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await action();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples;
}

export interface Row {
  name: string;
  runs: number;
  medianMs: number;
  p99Ms: number;
  /** What this row is compared with: the reference measured in the same run. */
  baseline?: string;
}

export function row(name: string, samplesMs: readonly number[], baseline?: string): Row {
  return { name, runs: samplesMs.length, medianMs: median(samplesMs), p99Ms: percentile(samplesMs, 99), ...(baseline ? { baseline } : {}) };
}

function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

/** A Markdown table (pasteable into the README); the ratio is baseline median / this median. */
export function table(title: string, rows: readonly Row[]): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const lines = [`### ${title}`, '', '| what | runs | median ms | p99 ms | vs | speed-up |', '|---|---:|---:|---:|---|---:|'];
  for (const r of rows) {
    const base = r.baseline ? byName.get(r.baseline) : undefined;
    const speedUp = base ? base.medianMs / r.medianMs : null;
    // Below 1 the row is slower than its reference: say by how much rather than print 0.0x.
    const ratio = speedUp === null ? '' : speedUp >= 1 ? `${speedUp.toFixed(1)}x` : `${(1 / speedUp).toFixed(1)}x slower`;
    lines.push(`| ${r.name} | ${r.runs} | ${formatMs(r.medianMs)} | ${formatMs(r.p99Ms)} | ${r.baseline ?? ''} | ${ratio} |`);
  }
  return lines.join('\n');
}
