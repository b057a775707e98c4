/** What a download's progress says, on a clock the test moves. */
import { DownloadProgress, formatBytes } from '../../../src/virt/imagecache/download-progress.js';

test.each([
  [0, '0 B'],
  [1023, '1023 B'],
  [1536, '1.5 KiB'],
  [48 * 2 ** 20, '48.0 MiB'],
  [3.25 * 2 ** 30, '3.3 GiB'],
])('formatBytes(%d) = %s', (bytes, text) => {
  expect(formatBytes(bytes)).toBe(text);
});

test('a report is due every few seconds, with percent when the size is known; the summary has duration and rate', () => {
  let now = 0;
  const progress = new DownloadProgress(48 * 2 ** 20, () => now, 5000);
  now = 1000;
  expect(progress.add(6 * 2 ** 20)).toBe(false);
  now = 5000;
  expect(progress.add(6 * 2 ** 20)).toBe(true);
  expect(progress.describe()).toBe('12.0 MiB of 48.0 MiB (25%)');
  now = 9999;
  expect(progress.add(12 * 2 ** 20)).toBe(false);
  now = 10_000;
  expect(progress.add(24 * 2 ** 20)).toBe(true);
  expect(progress.describe()).toBe('48.0 MiB of 48.0 MiB (100%)');
  expect(progress.summary()).toBe('48.0 MiB in 10.0 s (4.8 MiB/s)');
});

test('without a size: bytes only, no percent', () => {
  let now = 0;
  const progress = new DownloadProgress(null, () => now);
  progress.add(1536);
  now = 2000;
  expect(progress.fraction).toBeNull();
  expect(progress.describe()).toBe('1.5 KiB');
  expect(progress.summary()).toBe('1.5 KiB in 2.0 s (768 B/s)');
});
