/** The <metadata> Nova writes into every domain (driver.py _get_guest_config_meta). */
import type { Instance } from '../nova/spawn-request.js';
import { VERSION } from '../version.js';
import type { NovaInstanceMeta } from './guest-config.js';

/** time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(...)) */
function creationTime(now: Date): string {
  return now.toISOString().slice(0, 19).replace('T', ' ');
}

export function planNovaMeta(instance: Instance, now: Date): NovaInstanceMeta {
  const { flavor, system_metadata: systemMetadata } = instance;
  return {
    package: VERSION,
    name: instance.display_name,
    creationTime: creationTime(now),
    flavor: {
      name: flavor.name,
      memory: flavor.memory_mb,
      disk: flavor.root_gb,
      swap: flavor.swap,
      ephemeral: flavor.ephemeral_gb,
      vcpus: flavor.vcpus,
    },
    owner: {
      userId: instance.user_id,
      userName: systemMetadata['owner_user_name'] ?? 'N/A',
      projectId: instance.project_id,
      projectName: systemMetadata['owner_project_name'] ?? 'N/A',
    },
    root: instance.image_ref ? { type: 'image', uuid: instance.image_ref } : null,
    ports: instance.network_info.map((vif) => ({
      uuid: vif.id,
      ips: vif.network.subnets.flatMap((subnet) =>
        subnet.ips.map((ip) => ({ type: ip.type, address: ip.address, ipVersion: ip.version })),
      ),
    })),
  };
}
