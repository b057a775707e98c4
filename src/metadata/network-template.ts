/**
 * The injected /etc/network/interfaces file (netutils.get_injected_network_template with Nova's default
 * nova/virt/interfaces.template), written as content/0000 and listed as meta_data.json "network_config"
 * when a VIF's network has meta `injected` (Neutron sets it from [DEFAULT] flat_injected). The template is
 * rendered here as Jinja renders it (trim_blocks, None printed as "None"), with the libvirt virt type unset
 * as the metadata code passes it.
 */
import type { Subnet, Vif } from '../nova/spawn-request.js';
import { broadcast, parseIpNetwork } from './ip-network.js';
import { firstSubnet, guestNetmask, pythonTruthy, subnetMeta } from './vif-model.js';

const HEADER = `# Injected by Nova on instance boot
#
# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

# The loopback network interface
auto lo
iface lo inet loopback
`;

interface InjectedInterface {
  name: string;
  hwaddress: string;
  v4: { address: string; netmask: string | number; broadcast: string | null; gateway: string | null; dns: string } | null;
  v6: { address: string; netmask: string | number; gateway: string | null; dns: string } | null;
}

/** Jinja's {{ value }}: Python's str(). */
function str(value: string | number | null): string {
  return value === null ? 'None' : String(value);
}

function dnsLine(subnet: Subnet): string {
  return subnet.dns.map((dns) => dns.address).join(' ');
}

function injectedInterface(
  vif: Vif,
  name: string,
  v4: Subnet | undefined,
  v6: Subnet | undefined,
  field: (subnet: Subnet) => string,
): InjectedInterface {
  const ipv4 = v4?.ips[0];
  const ipv6 = v6?.ips[0];
  return {
    name,
    hwaddress: vif.address,
    v4:
      v4 && ipv4
        ? {
            address: ipv4.address,
            netmask: guestNetmask(ipv4, v4, field(v4)),
            broadcast: broadcast(parseIpNetwork(v4.cidr, field(v4))),
            gateway: v4.gateway?.address ?? null,
            dns: dnsLine(v4),
          }
        : null,
    v6:
      v6 && ipv6
        ? {
            address: ipv6.address,
            netmask: guestNetmask(ipv6, v6, field(v6)),
            gateway: v6.gateway?.address ?? null,
            dns: dnsLine(v6),
          }
        : null,
  };
}

function render(interfaces: readonly InjectedInterface[], useIpv6: boolean): string {
  let out = HEADER;
  for (const ifc of interfaces) {
    out += `\nauto ${ifc.name}\n`;
    if (ifc.v4 && ifc.v4.address) {
      out += `iface ${ifc.name} inet static\n`;
      out += `    hwaddress ether ${ifc.hwaddress}\n`;
      out += `    address ${ifc.v4.address}\n`;
      out += `    netmask ${str(ifc.v4.netmask)}\n`;
      out += `    broadcast ${str(ifc.v4.broadcast)}\n`;
      if (ifc.v4.gateway) out += `    gateway ${ifc.v4.gateway}\n`;
      if (ifc.v4.dns) out += `    dns-nameservers ${ifc.v4.dns}\n`;
    }
    if (useIpv6 && ifc.v6 && ifc.v6.address) {
      out += `iface ${ifc.name} inet6 static\n`;
      out += `    hwaddress ether ${ifc.hwaddress}\n`;
      out += `    address ${ifc.v6.address}\n`;
      out += `    netmask ${str(ifc.v6.netmask)}\n`;
      if (ifc.v6.gateway) out += `    gateway ${ifc.v6.gateway}\n`;
      if (ifc.v6.dns) out += `    dns-nameservers ${ifc.v6.dns}\n`;
    }
  }
  return out;
}

/** The rendered file, or null when no VIF asks for injection (or every injected one uses DHCP). */
export function injectedNetworkTemplate(networkInfo: readonly Vif[]): string | null {
  const interfaces: InjectedInterface[] = [];
  let interfaceNumber = -1;
  for (const [vifIndex, vif] of networkInfo.entries()) {
    const subnets = vif.network.subnets;
    if (subnets.length === 0) continue;
    const v4 = firstSubnet(vif, 4);
    const v6 = firstSubnet(vif, 6);
    interfaceNumber++;
    if (!pythonTruthy(vif.network.meta['injected'])) continue;
    // The template has no DHCP stanza: Nova leaves such an interface out.
    if ([v4, v6].some((subnet) => subnet && subnetMeta(subnet, 'dhcp_server') !== null)) continue;
    const field = (subnet: Subnet): string => `network_info[${vifIndex}].network.subnets[${subnets.indexOf(subnet)}].cidr`;
    interfaces.push(injectedInterface(vif, `eth${interfaceNumber}`, v4, v6, field));
  }
  if (interfaces.length === 0) return null;
  return render(interfaces, interfaces.some((ifc) => ifc.v6 !== null));
}
