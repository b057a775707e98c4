/** The small pure pieces under the consumer: backoff delays, bounded memory, build slots. */
import { backoffDelay } from '../../src/backoff.js';
import { BoundedMap } from '../../src/bounded-map.js';
import { BuildSlots } from '../../src/compute/build-slots.js';

describe('backoffDelay', () => {
  const backoff = { initialMs: 1000, maxMs: 30_000, jitter: 0.2 };

  test('doubles from initialMs, spread by at most ±jitter', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(backoff, attempt, () => 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(backoff, 1, () => 0)).toBe(800);
    expect(backoffDelay(backoff, 1, () => 1)).toBe(1200);
  });

  test('never exceeds maxMs, whatever the attempt and the draw', () => {
    for (const attempt of [5, 6, 10, 100, 10_000]) {
      for (const draw of [0, 0.5, 0.999999]) expect(backoffDelay(backoff, attempt, () => draw)).toBeLessThanOrEqual(backoff.maxMs);
    }
    expect(backoffDelay(backoff, 100, () => 0)).toBeGreaterThan(backoff.maxMs / 2);
  });
});

test('BoundedMap forgets the oldest entry beyond its limit; setting an entry again makes it the newest', () => {
  const map = new BoundedMap<string, number>(2);
  map.set('a', 1);
  map.set('b', 2);
  map.set('a', 3);
  map.set('c', 4);
  expect([map.get('a'), map.get('b'), map.get('c')]).toEqual([3, undefined, 4]);
  expect(() => new BoundedMap(0)).toThrow(RangeError);
});

test('BuildSlots lets `limit` builds run at a time, the next one when a slot is given back, and any number for 0', async () => {
  const slots = new BuildSlots(2);
  const first = await slots.acquire();
  await slots.acquire();
  let third = false;
  const waiting = slots.acquire().then((release) => {
    third = true;
    return release;
  });
  await new Promise((resolve) => setImmediate(resolve));
  expect(third).toBe(false);
  // Giving a slot back twice frees it once: the fourth build still waits.
  first();
  first();
  await waiting;
  expect(third).toBe(true);
  let fourth = false;
  void slots.acquire().then(() => (fourth = true));
  await new Promise((resolve) => setImmediate(resolve));
  expect(fourth).toBe(false);
  const unlimited = new BuildSlots(0);
  await Promise.all(Array.from({ length: 100 }, () => unlimited.acquire()));
});
