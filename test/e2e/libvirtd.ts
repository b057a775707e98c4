import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_ROOT } from '../../src/version.js';
import { runTool, ToolFailedError } from './run-tool.js';

/** The real libvirtd the end-to-end tests boot guests on (TCG: `<domain type='qemu'>`). */
export const SYSTEM_URI = 'qemu:///system';

// From the package root, so bench/ (run from dist/) finds it too.
const START_LIBVIRTD = join(PACKAGE_ROOT, 'scripts/start-libvirtd');

/** On a fresh machine the script installs libvirt and QEMU first: callers' hooks should allow this long. */
export const INSTALL_TIMEOUT_MS = 600_000;

export class LibvirtdUnavailableError extends Error {
  override readonly name = 'LibvirtdUnavailableError';
}

export class GuestDidNotPowerOffError extends Error {
  override readonly name = 'GuestDidNotPowerOffError';
}

let started: Promise<void> | undefined;

/**
 * Makes sure libvirtd answers on qemu:///system, installing and starting it if needed (scripts/start-libvirtd:
 * as root, up to a few minutes on a fresh machine, well under a second when it already runs). Never skips: a
 * host where libvirtd cannot run fails the test with the script's own explanation.
 */
export function ensureLibvirtd(): Promise<void> {
  started ??= runTool(START_LIBVIRTD, []).then(
    () => undefined,
    (error: unknown) => {
      started = undefined;
      const detail = error instanceof ToolFailedError ? error.stderr.trim() : String(error);
      throw new LibvirtdUnavailableError(`libvirtd is not available on ${SYSTEM_URI}; ${START_LIBVIRTD} said:\n${detail}`);
    },
  );
  return started;
}

/** `virsh -c qemu:///system ...args`, stdout as text; a failure throws with virsh's error message. */
export async function virsh(...args: string[]): Promise<string> {
  return (await runTool('virsh', ['-c', SYSTEM_URI, ...args])).toString('utf8');
}

export interface WaitForShutoffOptions {
  /** Default 90 s: a TCG guest boots in 5-10 s, but a loaded 2-core machine can be several times slower. */
  timeoutMs?: number;
  pollMs?: number;
  /** The domain's serial console file: its last lines go into the timeout error. */
  consolePath?: string;
}

/**
 * Polls until the domain is shut off (a persistent domain after on_poweroff=destroy) or gone (a transient one),
 * and returns how long that took. Any other end (crashed) or the timeout throws; on timeout the domain is left
 * running for the caller's cleanup to destroy.
 */
export async function waitForShutoff(domain: string, options: WaitForShutoffOptions = {}): Promise<number> {
  const { timeoutMs = 90_000, pollMs = 250, consolePath } = options;
  const begin = Date.now();
  for (;;) {
    const state = await domainState(domain);
    if (state === 'shut off' || state === undefined) return Date.now() - begin;
    if (state === 'crashed') throw new GuestDidNotPowerOffError(`domain ${domain} crashed${await consoleTail(consolePath)}`);
    if (Date.now() - begin > timeoutMs) {
      throw new GuestDidNotPowerOffError(`domain ${domain} still "${state}" after ${timeoutMs} ms${await consoleTail(consolePath)}`);
    }
    await sleep(pollMs);
  }
}

/** `virsh domstate` ("running", "shut off", ...), or undefined when no such domain exists (any more). */
async function domainState(domain: string): Promise<string | undefined> {
  try {
    return (await virsh('domstate', domain)).trim();
  } catch (error) {
    if (error instanceof ToolFailedError && /failed to get domain|Domain not found/i.test(error.stderr)) return undefined;
    throw error;
  }
}

async function consoleTail(path: string | undefined): Promise<string> {
  if (!path) return '';
  const text = await readFile(path, 'utf8').catch((error: Error) => `(cannot read: ${error.message})`);
  return `\n--- last lines of ${path} ---\n${text.trimEnd().split('\n').slice(-25).join('\n')}`;
}
