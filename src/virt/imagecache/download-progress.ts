/**
 * How far a download is, in words an operator reads in the log: bytes so far, percent when the size is
 * known, and at the end the duration and rate. Pure but for the clock it is given.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB"; bytes below 1 KiB as they are. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

export class DownloadProgress {
  received = 0;
  private readonly startedMs: number;
  private lastReportMs: number;

  constructor(
    /** The expected size (Content-Length, else the image's size), null when unknown. */
    readonly size: number | null,
    private readonly nowMs: () => number = Date.now,
    /** add() says a report is due at most this often. */
    private readonly everyMs = 5000,
  ) {
    this.startedMs = this.lastReportMs = nowMs();
  }

  /** Counts `bytes` received; true when a progress report is due. */
  add(bytes: number): boolean {
    this.received += bytes;
    const now = this.nowMs();
    if (now - this.lastReportMs < this.everyMs) return false;
    this.lastReportMs = now;
    return true;
  }

  /** Received / size, null when the size is unknown (or zero). */
  get fraction(): number | null {
    return this.size ? Math.min(1, this.received / this.size) : null;
  }

  get elapsedSeconds(): number {
    return (this.nowMs() - this.startedMs) / 1000;
  }

  /** Bytes per second so far (0 before any time passed). */
  get rate(): number {
    const seconds = this.elapsedSeconds;
    return seconds > 0 ? this.received / seconds : 0;
  }

  /** "12.0 MiB of 48.0 MiB (25%)", or "12.0 MiB" when the size is unknown. */
  describe(): string {
    const fraction = this.fraction;
    return fraction === null ? formatBytes(this.received) : `${formatBytes(this.received)} of ${formatBytes(this.size!)} (${Math.floor(fraction * 100)}%)`;
  }

  /** "48.0 MiB in 3.2 s (15.0 MiB/s)". */
  summary(): string {
    return `${formatBytes(this.received)} in ${this.elapsedSeconds.toFixed(1)} s (${formatBytes(Math.round(this.rate))}/s)`;
  }
}
