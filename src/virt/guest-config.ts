/**
 * A guest as plain data: everything the domain XML says, decided by planGuest() (pure), written by
 * renderDomainXml() (xml2js). Names follow Nova's LibvirtConfigGuest* classes.
 */
import type { Architecture } from './arch.js';
import type { DeviceType, DiskBus } from './blockinfo.js';
import type { DiskCachemode } from './cachemode.js';
import type { GuestVirtType } from './virt-options.js';

/** Nova's names for an instance's local disks (the files in its directory). */
export type LocalDiskName = 'disk' | 'disk.local' | 'disk.swap' | 'disk.config';

export type DiskFormat = 'raw' | 'qcow2';

export interface GuestDisk {
  name: LocalDiskName;
  device: DeviceType;
  sourceFile: string;
  driverFormat: DiskFormat;
  driverCache: DiskCachemode;
  targetDev: string;
  targetBus: DiskBus;
  readonly: boolean;
  /** Unit on SCSI controller 0, set for disks on the SCSI bus (Nova addresses them when it adds the controller). */
  scsiUnit: number | null;
}

export interface GuestController {
  type: 'scsi';
  model: string;
  index: number;
}

interface InterfaceCommon {
  macAddress: string;
  model: string;
  mtu: number | null;
}

/** A Linux bridge, or an Open vSwitch bridge when `virtualport` says so. */
export interface BridgeInterface extends InterfaceCommon {
  type: 'bridge';
  sourceBridge: string;
  targetDev: string | null;
  virtualport: { type: 'openvswitch'; interfaceId: string } | null;
}

/** A tap device the network backend plugs itself. */
export interface EthernetInterface extends InterfaceCommon {
  type: 'ethernet';
  targetDev: string;
}

export type GuestInterface = BridgeInterface | EthernetInterface;

export interface DirectKernelBoot {
  kernel: string;
  initrd: string | null;
  cmdline: string;
}

export interface GuestOs {
  arch: Architecture;
  machineType: string | null;
  /** Direct kernel boot, or firmware booting the root disk. */
  boot: DirectKernelBoot | { bootDev: 'hd' };
}

/** LibvirtConfigGuestMetaNovaInstance: who and what the guest is, for operators reading `virsh dumpxml`. */
export interface NovaInstanceMeta {
  package: string;
  name: string;
  /** "%Y-%m-%d %H:%M:%S", UTC */
  creationTime: string;
  flavor: { name: string; memory: number; disk: number; swap: number; ephemeral: number; vcpus: number };
  owner: { userId: string; userName: string; projectId: string; projectName: string };
  root: { type: 'image'; uuid: string } | null;
  ports: { uuid: string; ips: { type: string; address: string; ipVersion: number }[] }[];
}

export interface GuestConfig {
  virtType: GuestVirtType;
  name: string;
  uuid: string;
  memoryKib: number;
  vcpus: number;
  metadata: NovaInstanceMeta;
  os: GuestOs;
  disks: GuestDisk[];
  controllers: GuestController[];
  interfaces: GuestInterface[];
  /** Where the serial console is written (console.log in the instance directory). */
  consoleLog: string;
}
