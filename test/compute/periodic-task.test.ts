/** PeriodicTask: oslo.service's spacing rules, runs that never overlap, and a stop that waits for the run. */
import { PeriodicTask, periodicSpacingS } from '../../src/compute/periodic-task.js';
import { getLogger } from '../../src/log.js';

const log = getLogger('test');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test.each([
  [600, 600],
  [0, 60],
  [-1, null],
])('a spacing of %s s runs every %s s (null: disabled)', (configured, every) => {
  expect(periodicSpacingS(configured)).toBe(every);
});

test('runs at once, then again after the spacing, one run at a time; stop waits for the run in flight', async () => {
  let running = 0;
  let overlapped = false;
  let runs = 0;
  const task = new PeriodicTask('_sync_power_states', 0.02, async () => {
    running++;
    overlapped ||= running > 1;
    runs++;
    // Longer than the spacing: the next run starts when this one ends, not before.
    await sleep(30);
    running--;
  }, log);
  task.start();
  expect(runs).toBe(1);
  await sleep(100);
  await task.stop();
  expect(running).toBe(0);
  expect(runs).toBeGreaterThanOrEqual(3);
  expect(overlapped).toBe(false);
  const after = runs;
  await sleep(60);
  expect(runs).toBe(after);
});

test('a failed run is logged and the next runs; a negative spacing never runs', async () => {
  let runs = 0;
  const failing = new PeriodicTask('_cleanup_running_deleted_instances', 0.01, async () => {
    runs++;
    throw new Error('conductor away');
  }, log);
  failing.start();
  await sleep(50);
  await failing.stop();
  expect(runs).toBeGreaterThanOrEqual(2);

  let disabledRuns = 0;
  const disabled = new PeriodicTask('_sync_power_states', -1, async () => void disabledRuns++, log);
  disabled.start();
  await sleep(20);
  await disabled.stop();
  expect(disabledRuns).toBe(0);
});

test('started with what it needs pending, the first run waits for it; stopped meanwhile, none runs', async () => {
  let runs = 0;
  let up!: () => void;
  const task = new PeriodicTask('_sync_power_states', 60, async () => void runs++, log);
  task.start(new Promise<void>((resolve) => (up = resolve)));
  await sleep(20);
  expect(runs).toBe(0);
  up();
  await sleep(0);
  expect(runs).toBe(1);
  await task.stop();

  let never = 0;
  let late!: () => void;
  const stopped = new PeriodicTask('_cleanup_running_deleted_instances', 60, async () => void never++, log);
  stopped.start(new Promise<void>((resolve) => (late = resolve)));
  await stopped.stop();
  late();
  await sleep(10);
  expect(never).toBe(0);
});
