import type { GuestImage } from './guest.js';

/**
 * Hand-written domain XML for the infrastructure test, independent of nova-spawnd's own src/virt/: the smallest
 * domain that boots the test guest under TCG with one config drive attached. Like Nova, no <readonly/> on the
 * drive: a CD-ROM is read-only anyway, and the guest mounts either kind read-only.
 */

/** How the config drive is attached: q35 has no IDE bus, so a CD-ROM there goes on SATA. */
export type DriveAttachment = { device: 'cdrom'; bus: 'ide' | 'sata' } | { device: 'disk'; bus: 'virtio' };

export interface TestDomain {
  name: string;
  machine: 'pc' | 'q35';
  guest: GuestImage;
  drive: DriveAttachment;
  drivePath: string;
  consolePath: string;
}

const TARGET_DEV = { ide: 'hdc', sata: 'sda', virtio: 'vda' } as const;

const escapeXml = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

export function testDomainXml({ name, machine, guest, drive, drivePath, consolePath }: TestDomain): string {
  return `<domain type='qemu'>
  <name>${escapeXml(name)}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='${machine}'>hvm</type>
    <kernel>${escapeXml(guest.kernel)}</kernel>
    <initrd>${escapeXml(guest.initrd)}</initrd>
    <cmdline>${escapeXml(guest.cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='${drive.device}'>
      <driver name='qemu' type='raw'/>
      <source file='${escapeXml(drivePath)}'/>
      <target dev='${TARGET_DEV[drive.bus]}' bus='${drive.bus}'/>
    </disk>
    <serial type='file'><source path='${escapeXml(consolePath)}'/><target port='0'/></serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
