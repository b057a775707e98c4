/**
 * Reads back what the test guest's /init (guest-init.sh) printed on its serial console:
 *
 *   ===DRIVE /dev/sr0 iso9660===            the device found by `findfs LABEL=config-2`, the filesystem mounted
 *   ===BEGIN openstack/latest/user_data===  one block per regular file on the drive, path relative to its root
 *   I2Nsb3VkLWNvbmZpZwo=                    the file's bytes, base64, 76 columns
 *   ===END openstack/latest/user_data===
 *   ===DUMP COMPLETE 12 files===            written only after every file went out
 *   ===ERROR no filesystem labelled ...===  instead, when the guest could not do its job
 *
 * Anything else on the console (kernel messages before the dump) is ignored.
 */

export interface GuestDump {
  /** Guest device node the label resolved to; its name depends on the bus (sr0, sda, vda), not on the XML target. */
  device: string;
  /** Filesystem type the guest kernel mounted the drive as: iso9660 or vfat. */
  fstype: string;
  /** Every regular file on the drive: relative path -> exact bytes. */
  files: Map<string, Buffer>;
}

export class GuestConsoleError extends Error {
  override readonly name = 'GuestConsoleError';
  constructor(reason: string, log: string) {
    super(`${reason}\n--- last lines of the guest console ---\n${lastLines(log, 25)}`);
  }
}

const lastLines = (text: string, count: number): string => text.trimEnd().split('\n').slice(-count).join('\n');

const MARKER = /^===(DRIVE|BEGIN|END|DUMP COMPLETE|ERROR) (.*)===$/;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

export function parseGuestDump(log: string): GuestDump {
  const lines = log.replaceAll('\r', '').split('\n');
  let drive: { device: string; fstype: string } | undefined;
  const files = new Map<string, Buffer>();
  let open: { path: string; base64: string[] } | undefined;

  for (const [i, line] of lines.entries()) {
    const marker = MARKER.exec(line);
    if (open) {
      if (marker?.[1] === 'END' && marker[2] === open.path) {
        files.set(open.path, decodeBase64(open.path, open.base64.join(''), log));
        open = undefined;
      } else if (BASE64_LINE.test(line)) {
        open.base64.push(line);
      } else {
        throw new GuestConsoleError(`console line ${i + 1} inside the block of ${JSON.stringify(open.path)} is not base64: ${JSON.stringify(line)}`, log);
      }
      continue;
    }
    if (!marker) continue;
    const value = marker[2]!;
    switch (marker[1]) {
      case 'ERROR':
        throw new GuestConsoleError(`the guest reported: ${value}`, log);
      case 'DRIVE': {
        const [device = '', fstype = ''] = value.split(' ');
        drive = { device, fstype };
        break;
      }
      case 'BEGIN':
        if (!drive) throw new GuestConsoleError(`file block ${JSON.stringify(value)} before the ===DRIVE=== line`, log);
        if (files.has(value)) throw new GuestConsoleError(`file ${JSON.stringify(value)} dumped twice`, log);
        open = { path: value, base64: [] };
        break;
      case 'END':
        throw new GuestConsoleError(`===END ${value}=== without its ===BEGIN===`, log);
      case 'DUMP COMPLETE': {
        const announced = Number(/^(\d+) files$/.exec(value)?.[1]);
        if (announced !== files.size) {
          throw new GuestConsoleError(`the guest announced ${JSON.stringify(value)} but ${files.size} file blocks were read`, log);
        }
        if (!drive) throw new GuestConsoleError('===DUMP COMPLETE=== before the ===DRIVE=== line', log);
        return { ...drive, files };
      }
    }
  }
  const where = open ? `inside the block of ${JSON.stringify(open.path)}` : `after ${files.size} files`;
  throw new GuestConsoleError(`the guest's dump is incomplete: the console ends ${where}, with no ===DUMP COMPLETE===`, log);
}

function decodeBase64(path: string, base64: string, log: string): Buffer {
  if (base64.length % 4 !== 0 || !BASE64_LINE.test(base64)) {
    throw new GuestConsoleError(`the base64 of ${JSON.stringify(path)} is malformed (${base64.length} characters)`, log);
  }
  return Buffer.from(base64, 'base64');
}

/** The files the guest found on its config drive, path -> bytes (see parseGuestDump for the drive itself). */
export function parseConsole(log: string): Map<string, Buffer> {
  return parseGuestDump(log).files;
}

/** What the guest did with network_data.json after its dump: the NIC it configured and whether the gateway answered. */
export interface GuestNetwork {
  mac: string;
  /** address/prefix */
  address: string;
  nic: string;
  gateway: string;
  pinged: boolean;
}

const NET_MARKER = /^===NET (\S+) (\S+) (\S+)===$/;
const PING_MARKER = /^===PING (\S*) (ok|failed)===$/;

/** The ===NET=== and ===PING=== lines (guest-init.sh); null when the drive had no static IPv4 network. */
export function parseGuestNetwork(log: string): GuestNetwork | null {
  const lines = log.replaceAll('\r', '').split('\n');
  const complete = lines.findIndex((line) => line.startsWith('===DUMP COMPLETE'));
  if (complete < 0) throw new GuestConsoleError('no ===DUMP COMPLETE=== before the network lines', log);
  let net: RegExpExecArray | null = null;
  for (const line of lines.slice(complete + 1)) {
    const error = /^===ERROR (.*)===$/.exec(line);
    if (error) throw new GuestConsoleError(`the guest reported: ${error[1]}`, log);
    net ??= NET_MARKER.exec(line);
    const ping = PING_MARKER.exec(line);
    if (ping) {
      if (!net) throw new GuestConsoleError('===PING=== before ===NET===', log);
      return { mac: net[1]!, address: net[2]!, nic: net[3]!, gateway: ping[1]!, pinged: ping[2] === 'ok' };
    }
  }
  if (net) throw new GuestConsoleError('===NET=== without its ===PING===', log);
  return null;
}
