/**
 * The real Keystone of scripts/keystone and the placement that checks its tokens, for tests of
 * auth_type = password. Started once per machine and left running: from nothing about 40 s here, when running
 * half a second. `scripts/keystone stop` ends it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const SCRIPT = fileURLToPath(new URL('../../scripts/keystone', import.meta.url));

export interface KeystoneUser {
  username: string;
  password: string;
  project_name: string;
  /** The name of the user's and the project's domain. */
  domain: string;
}

/** What scripts/keystone prints once Keystone and its placement answer. */
export interface Keystone {
  /** With /v3. */
  keystone_url: string;
  /** A placement with auth_strategy = keystone, in the catalog (public, internal) of region_name. */
  placement_url: string;
  region: string;
  /** Seconds a token lives. */
  token_expiration: number;
  admin: KeystoneUser;
  /** The compute's service user: admin in the service project. */
  nova: KeystoneUser;
  log_dir: string;
}

/** Use as beforeAll(..., KEYSTONE_START_MS): the first start may install packages. */
export const KEYSTONE_START_MS = 300_000;

export async function startKeystone(): Promise<Keystone> {
  const { stdout } = await execFileAsync(SCRIPT, ['start'], { timeout: KEYSTONE_START_MS });
  return JSON.parse(stdout) as Keystone;
}
