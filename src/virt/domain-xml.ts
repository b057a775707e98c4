/**
 * GuestConfig -> libvirt domain XML (https://libvirt.org/formatdomain.html), built with xml2js from plain
 * objects so every name, path and piece of metadata is escaped by the builder, never pasted into markup.
 */
import { Builder } from 'xml2js';
import type { GuestConfig, GuestDisk, GuestInterface, GuestOs, NovaInstanceMeta } from './guest-config.js';
import { xmlSafeTree } from './xml-text.js';

/** Nova's namespace for its <metadata> (nova/virt/libvirt/config.py NOVA_NS). */
export const NOVA_NS = 'http://openstack.org/xmlns/libvirt/nova/1.1';

type XmlNode = { [element: string]: unknown };

function metadata(meta: NovaInstanceMeta): XmlNode {
  const { flavor, owner } = meta;
  return {
    'nova:instance': {
      $: { 'xmlns:nova': NOVA_NS },
      'nova:package': { $: { version: meta.package } },
      'nova:name': meta.name,
      'nova:creationTime': meta.creationTime,
      'nova:flavor': {
        $: { name: flavor.name },
        'nova:memory': String(flavor.memory),
        'nova:disk': String(flavor.disk),
        'nova:swap': String(flavor.swap),
        'nova:ephemeral': String(flavor.ephemeral),
        'nova:vcpus': String(flavor.vcpus),
      },
      'nova:owner': {
        'nova:user': { $: { uuid: owner.userId }, _: owner.userName },
        'nova:project': { $: { uuid: owner.projectId }, _: owner.projectName },
      },
      ...(meta.root === null ? {} : { 'nova:root': { $: { type: meta.root.type, uuid: meta.root.uuid } } }),
      'nova:ports': {
        'nova:port': meta.ports.map((port) => ({
          $: { uuid: port.uuid },
          'nova:ip': port.ips.map((ip) => ({ $: { type: ip.type, address: ip.address, ipVersion: String(ip.ipVersion) } })),
        })),
      },
    },
  };
}

function os(guestOs: GuestOs): XmlNode {
  const type = { $: { arch: guestOs.arch, ...(guestOs.machineType === null ? {} : { machine: guestOs.machineType }) }, _: 'hvm' };
  const boot = guestOs.boot;
  if ('bootDev' in boot) return { type, boot: { $: { dev: boot.bootDev } } };
  return { type, kernel: boot.kernel, ...(boot.initrd === null ? {} : { initrd: boot.initrd }), cmdline: boot.cmdline };
}

function disk(guestDisk: GuestDisk): XmlNode {
  return {
    $: { type: 'file', device: guestDisk.device },
    driver: { $: { name: 'qemu', type: guestDisk.driverFormat, cache: guestDisk.driverCache } },
    source: { $: { file: guestDisk.sourceFile } },
    target: { $: { dev: guestDisk.targetDev, bus: guestDisk.targetBus } },
    ...(guestDisk.readonly ? { readonly: {} } : {}),
    ...(guestDisk.scsiUnit === null
      ? {}
      : { address: { $: { type: 'drive', controller: '0', bus: '0', target: '0', unit: String(guestDisk.scsiUnit) } } }),
  };
}

function networkInterface(nic: GuestInterface): XmlNode {
  const common = {
    mac: { $: { address: nic.macAddress } },
    model: { $: { type: nic.model } },
    ...(nic.mtu === null ? {} : { mtu: { $: { size: String(nic.mtu) } } }),
  };
  if (nic.type === 'ethernet') return { $: { type: 'ethernet' }, ...common, target: { $: { dev: nic.targetDev } } };
  return {
    $: { type: 'bridge' },
    ...common,
    source: { $: { bridge: nic.sourceBridge } },
    ...(nic.targetDev === null ? {} : { target: { $: { dev: nic.targetDev } } }),
    ...(nic.virtualport === null
      ? {}
      : { virtualport: { $: { type: nic.virtualport.type }, parameters: { $: { interfaceid: nic.virtualport.interfaceId } } } }),
  };
}

/**
 * The domain Nova would define, less what nova-spawnd does not manage (CPU model, NUMA, graphics, video,
 * sysinfo, memballoon: libvirt's defaults apply). No <emulator>: libvirt picks the binary for arch and
 * machine. The serial console goes to a file, and the <console> is that same serial port.
 */
export function renderDomainXml(guest: GuestConfig): string {
  const log = { $: { path: guest.consoleLog } };
  const domain = {
    $: { type: guest.virtType },
    name: guest.name,
    uuid: guest.uuid,
    metadata: metadata(guest.metadata),
    memory: { $: { unit: 'KiB' }, _: String(guest.memoryKib) },
    vcpu: String(guest.vcpus),
    os: os(guest.os),
    features: { acpi: {}, apic: {} },
    clock: { $: { offset: 'utc' } },
    on_poweroff: 'destroy',
    on_reboot: 'restart',
    on_crash: 'destroy',
    devices: {
      disk: guest.disks.map(disk),
      controller: guest.controllers.map((controller) => ({
        $: { type: controller.type, index: String(controller.index), model: controller.model },
      })),
      interface: guest.interfaces.map(networkInterface),
      serial: { $: { type: 'file' }, source: log, target: { $: { port: '0' } } },
      console: { $: { type: 'file' }, source: log, target: { $: { type: 'serial', port: '0' } } },
    },
  };
  const builder = new Builder({ headless: true, renderOpts: { pretty: true, indent: '  ', newline: '\n' } });
  return builder.buildObject(xmlSafeTree({ domain }));
}
