import { spawnSync } from 'node:child_process';

/**
 * Tests that run the nova-spawnd command need dist/ to match src/: build once per jest run. tsc emits even
 * when a type is wrong; type errors fail the suite in `npm run typecheck` (scripts/test), not here.
 */
export default function globalSetup() {
  const result = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (result.error) throw result.error;
}
