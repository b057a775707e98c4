/**
 * plug_vifs as Nova's libvirt driver does it through os-vif, for the VIF types this driver supports:
 * - bridge (Neutron's Linux bridge agent): the network's bridge (brq + network id) is created when missing
 *   and the network wants it (meta.should_create_bridge), as vif_plug_linux_bridge's ensure_bridge does;
 *   libvirt then creates the guest's tap in it (<interface type='bridge'>), and the agent, seeing the tap,
 *   adds the physical interface and turns the port ACTIVE.
 * - ovs: nothing to do here: libvirt adds the tap to the integration bridge itself
 *   (<virtualport type='openvswitch'>), which the OVS agent owns.
 * The other types are refused before anything is created (guest-interfaces.ts). Unplugging a bridge VIF does
 * nothing, as in os-vif: the tap goes with the domain, the agent removes bridges it no longer needs.
 */
import { execFile } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Vif } from '../nova/spawn-request.js';
import type { Logger, LogContext } from '../log.js';

const execFileAsync = promisify(execFile);

/** A VIF could not be plugged: the host's networking refused (no CAP_NET_ADMIN, no `ip`): retrying will not help. */
export class VifPlugFailed extends Error {
  override readonly name = 'VifPlugFailed';
  readonly transient = false;
}

/** What a Linux bridge VIF needs of the host: the bridge, created when missing. */
export interface HostBridges {
  ensureBridge(bridge: string): Promise<'created' | 'exists'>;
}

/** The bridges to ensure for `networkInfo`, each once, in order (pure). */
export function bridgesToEnsure(networkInfo: readonly Vif[]): string[] {
  const bridges = networkInfo.filter((vif) => vif.type === 'bridge' && vif.network.meta['should_create_bridge'] === true && vif.network.bridge);
  return [...new Set(bridges.map((vif) => vif.network.bridge!))];
}

export async function plugVifs(networkInfo: readonly Vif[], bridges: HostBridges, log: Logger, context: LogContext): Promise<void> {
  for (const bridge of bridgesToEnsure(networkInfo)) {
    if ((await bridges.ensureBridge(bridge)) === 'created') log.info(`bridge ${bridge} created`, context);
  }
}

/** Linux bridges through iproute2, as os-vif's ensure_bridge without a physical interface (flat_interface unset). */
export class LinuxBridges implements HostBridges {
  /** os-vif's 'nova-lock_bridge': one creation of a bridge at a time in this process. */
  private readonly creating = new Map<string, Promise<'created' | 'exists'>>();

  ensureBridge(bridge: string): Promise<'created' | 'exists'> {
    const running = this.creating.get(bridge);
    if (running !== undefined) return running.then(() => 'exists');
    const creation = this.create(bridge).finally(() => this.creating.delete(bridge));
    this.creating.set(bridge, creation);
    return creation;
  }

  private async create(bridge: string): Promise<'created' | 'exists'> {
    if (await exists(bridge)) return 'exists';
    try {
      await execFileAsync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    } catch (error) {
      // The Linux bridge agent may have made it meanwhile.
      if (await exists(bridge)) return 'exists';
      throw new VifPlugFailed(`could not create bridge ${bridge}: ${commandError(error)}`, { cause: error });
    }
    // No IPv6 autoconfiguration or link-local address on the bridge (Neutron bug 1302080), and no ARP replies
    // for the host's other addresses: os-vif's _disable_ipv6 and _arp_filtering.
    await setSysctl(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, '1');
    await setSysctl(`/proc/sys/net/ipv4/conf/${bridge}/arp_ignore`, '1');
    await setSysctl(`/proc/sys/net/ipv4/conf/${bridge}/arp_announce`, '2');
    try {
      await execFileAsync('ip', ['link', 'set', bridge, 'up']);
    } catch (error) {
      throw new VifPlugFailed(`could not set bridge ${bridge} up: ${commandError(error)}`, { cause: error });
    }
    return 'created';
  }
}

async function exists(device: string): Promise<boolean> {
  return access(`/sys/class/net/${device}`).then(
    () => true,
    () => false,
  );
}

/** As os-vif: only where the kernel has the setting (no IPv6, say). */
async function setSysctl(path: string, value: string): Promise<void> {
  try {
    await writeFile(path, value);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new VifPlugFailed(`could not write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function commandError(error: unknown): string {
  const stderr = (error as { stderr?: unknown }).stderr;
  return typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : (error as Error).message;
}
