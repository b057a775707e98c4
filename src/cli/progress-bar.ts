/**
 * The image download's progress on a terminal, for `nova-spawnd spawn`: one line redrawn in place (a
 * carriage return and erase-to-end-of-line, which every terminal understands), at most ten times a second,
 * ended with a newline when the download completes. No bar when the stream is not a terminal: the log lines
 * say the same for a file or the journal.
 */
import type { DownloadListener } from '../virt/imagecache/index.js';
import { formatBytes } from '../virt/imagecache/download-progress.js';

const REDRAW_EVERY_MS = 100;
const BAR_WIDTH = 30;

/** `image 1a2b3c4d [#########---------------------]  30% 12.0 MiB of 40.0 MiB, 3.1 MiB/s`; no bar without a size. */
export function progressLine(imageId: string, received: number, size: number | null, bytesPerSecond: number): string {
  const rate = `${formatBytes(Math.round(bytesPerSecond))}/s`;
  const label = `image ${imageId.slice(0, 8)}`;
  if (!size) return `${label} ${formatBytes(received)}, ${rate}`;
  const fraction = Math.min(1, received / size);
  const filled = Math.round(fraction * BAR_WIDTH);
  const percent = String(Math.floor(fraction * 100)).padStart(3);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${percent}% ${formatBytes(received)} of ${formatBytes(size)}, ${rate}`;
}

/** Where the bar is drawn: process.stderr, or a test's stand-in. */
export interface BarStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export class ProgressBar implements DownloadListener {
  private startedMs = 0;
  private drawnMs = Number.NEGATIVE_INFINITY;
  /** A bar line is on screen without its newline. */
  private open = false;

  constructor(
    private readonly stream: BarStream,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** A bar on `stream` when it is a terminal, else nothing. */
  static forTerminal(stream: BarStream): ProgressBar | null {
    return stream.isTTY ? new ProgressBar(stream) : null;
  }

  progress(imageId: string, received: number, size: number | null): void {
    const now = this.nowMs();
    if (received === 0) this.startedMs = now;
    const complete = size !== null && received >= size;
    if (!complete && now - this.drawnMs < REDRAW_EVERY_MS) return;
    this.drawnMs = now;
    const seconds = (now - this.startedMs) / 1000;
    this.stream.write(`\r${progressLine(imageId, received, size, seconds > 0 ? received / seconds : 0)}\x1b[K`);
    this.open = !complete;
    if (complete) this.stream.write('\n');
  }

  /** Ends a bar left open (a download that failed, or whose size was unknown). */
  finish(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }
}
