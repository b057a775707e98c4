/** The machine's libvirtd (qemu:///system), brought up by the project's own script when it is not running. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** On a fresh machine the script installs libvirt and QEMU first. */
export const INSTALL_TIMEOUT_MS = 600_000;

const START_LIBVIRTD = fileURLToPath(new URL('../../scripts/start-libvirtd', import.meta.url));

/** Installs libvirt-daemon and QEMU when missing and starts virtlogd + libvirtd when down (idempotent, < 1 s when up). */
export async function ensureLibvirtd(): Promise<void> {
  await promisify(execFile)(START_LIBVIRTD, { timeout: INSTALL_TIMEOUT_MS });
}
