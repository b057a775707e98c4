import { execFileSync } from 'node:child_process';

/** Tests that run the nova-spawnd command need dist/ to match src/: build once per jest run. */
export default function globalSetup() {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
