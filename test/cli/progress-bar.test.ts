/** The spawn command's download bar, drawn into a stand-in terminal on a clock the test moves. */
import { ProgressBar, progressLine } from '../../src/cli/progress-bar.js';

const IMAGE = '1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d';
const MiB = 2 ** 20;

test('the line: bar, percent, bytes and rate; bytes and rate alone without a size', () => {
  expect(progressLine(IMAGE, 12 * MiB, 40 * MiB, 3.1 * MiB)).toBe('image 1a2b3c4d [#########---------------------]  30% 12.0 MiB of 40.0 MiB, 3.1 MiB/s');
  expect(progressLine(IMAGE, 40 * MiB, 40 * MiB, 0)).toBe(`image 1a2b3c4d [${'#'.repeat(30)}] 100% 40.0 MiB of 40.0 MiB, 0 B/s`);
  expect(progressLine(IMAGE, 1536, null, 512)).toBe('image 1a2b3c4d 1.5 KiB, 512 B/s');
});

test('redrawn in place at most every 100 ms, always at the end, which ends the line', () => {
  let now = 0;
  const written: string[] = [];
  const bar = new ProgressBar({ isTTY: true, write: (text: string) => written.push(text) }, () => now);
  bar.progress(IMAGE, 0, 4 * MiB);
  now = 50;
  bar.progress(IMAGE, MiB, 4 * MiB); // too soon: not drawn
  now = 1000;
  bar.progress(IMAGE, 2 * MiB, 4 * MiB);
  now = 1010;
  bar.progress(IMAGE, 4 * MiB, 4 * MiB); // complete: drawn however soon
  bar.finish(); // nothing left open
  expect(written).toEqual([
    `\rimage 1a2b3c4d [${'-'.repeat(30)}]   0% 0 B of 4.0 MiB, 0 B/s\x1b[K`,
    `\rimage 1a2b3c4d [${'#'.repeat(15)}${'-'.repeat(15)}]  50% 2.0 MiB of 4.0 MiB, 2.0 MiB/s\x1b[K`,
    `\rimage 1a2b3c4d [${'#'.repeat(30)}] 100% 4.0 MiB of 4.0 MiB, 4.0 MiB/s\x1b[K`,
    '\n',
  ]);
});

test('a download that stops short leaves its line to finish(); no bar at all off a terminal', () => {
  const written: string[] = [];
  const bar = new ProgressBar({ isTTY: true, write: (text: string) => written.push(text) }, () => 0);
  bar.progress(IMAGE, 0, 4 * MiB);
  bar.finish();
  expect(written.at(-1)).toBe('\n');
  expect(ProgressBar.forTerminal({ isTTY: false, write: () => true })).toBeNull();
  expect(ProgressBar.forTerminal({ write: () => true })).toBeNull();
});
