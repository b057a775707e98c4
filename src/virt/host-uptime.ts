import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * The libvirt driver's get_host_uptime: uptime(1)'s line in the C locale, which nova-api shows as the
 * hypervisor's uptime (`openstack hypervisor show`).
 */
export async function hostUptime(): Promise<string> {
  const { stdout } = await promisify(execFile)('uptime', [], { env: { ...process.env, LANG: 'C', LC_ALL: 'C' } });
  return stdout;
}
