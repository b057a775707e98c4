/**
 * libvirt's messages as the binding delivered them, each provoked for real (libvirt 9.0, Debian 12):
 * on test:///default, on a real libvirtd (qemu:///system), and on a private libvirtd killed under a live
 * connection (test+unix, see reconnect.test.ts). connection.test.ts and qemu-system.test.ts provoke the
 * ones that matter again on every run.
 */
export type ExpectedClass =
  | 'LibvirtUnavailable'
  | 'DomainExists'
  | 'DomainNotFound'
  | 'InvalidDomainConfig'
  | 'StorageMissing'
  | 'InvalidDomainState'
  | 'LibvirtOperationFailed';

export interface ErrorSample {
  message: string;
  where: string;
  provoked: string;
  expected: ExpectedClass;
  /** The file a StorageMissing names. */
  path?: string;
}

export const ERROR_SAMPLES: ErrorSample[] = [
  // test:///default
  { where: 'test:///default', provoked: 'define: same name, other uuid (running or not)', expected: 'DomainExists', message: "operation failed: domain 'inst' already exists with uuid 11111111-1111-1111-1111-111111111111" },
  { where: 'test:///default', provoked: 'define: same uuid, other name', expected: 'DomainExists', message: "operation failed: domain 'inst' is already defined with uuid 11111111-1111-1111-1111-111111111111" },
  { where: 'test:///default', provoked: 'lookup of an unknown uuid or name', expected: 'DomainNotFound', message: 'Domain not found' },
  { where: 'test:///default', provoked: 'getInfo / undefine / start after undefine', expected: 'DomainNotFound', message: "Domain not found: no domain with matching uuid '11111111-1111-1111-1111-111111111111' (inst)" },
  { where: 'test:///default', provoked: 'define: truncated XML', expected: 'InvalidDomainConfig', message: "(domain_definition):1: Couldn't find end of Start Tag domain line 1\n<domain\n-------^" },
  { where: 'test:///default', provoked: 'define: no <os><type>', expected: 'InvalidDomainConfig', message: 'XML error: an os <type> must be specified' },
  { where: 'test:///default', provoked: 'define: domain type bogus', expected: 'InvalidDomainConfig', message: 'unsupported configuration: invalid domain type bogus' },
  { where: 'test:///default', provoked: 'define: unknown disk bus', expected: 'InvalidDomainConfig', message: "XML error: Invalid value for attribute 'bus' in element 'target': 'nope'." },
  { where: 'test:///default', provoked: 'define: another root element', expected: 'InvalidDomainConfig', message: "XML error: expecting root element of 'domain', not 'notdomain'" },
  { where: 'test:///default', provoked: 'start a running domain', expected: 'InvalidDomainState', message: "internal error: Domain 'inst' is already running" },
  { where: 'test:///default', provoked: 'destroy a stopped domain', expected: 'InvalidDomainState', message: 'Requested operation is not valid: domain is not running' },
  { where: 'test:///default', provoked: 'shutdown a stopped domain', expected: 'InvalidDomainState', message: "internal error: domain 'inst' not running" },
  { where: 'test:///default', provoked: 'lookup with a malformed uuid', expected: 'LibvirtOperationFailed', message: 'Invalid UUID' },
  { where: 'bogus:///x', provoked: 'connectOpen of a URI no driver serves', expected: 'LibvirtOperationFailed', message: 'no connection driver available for bogus:///x' },
  // qemu:///system, a real libvirtd
  { where: 'qemu:///system', provoked: 'start: root disk file missing', expected: 'StorageMissing', path: '/nonexistent/probe/disk', message: "Cannot access storage file '/nonexistent/probe/disk': No such file or directory" },
  { where: 'qemu:///system', provoked: 'start: config drive (cdrom) file missing', expected: 'StorageMissing', path: '/nonexistent/probe/disk.config', message: "Cannot access storage file '/nonexistent/probe/disk.config': No such file or directory" },
  { where: 'qemu:///system', provoked: 'start: kernel for direct boot missing', expected: 'StorageMissing', path: '/nonexistent/probe/kernel', message: 'unable to stat: /nonexistent/probe/kernel: No such file or directory' },
  { where: 'qemu:///system', provoked: 'start: instance directory (console.log) missing', expected: 'StorageMissing', path: '/nonexistent/probe/console.log', message: 'Unable to open file: /nonexistent/probe/console.log: No such file or directory' },
  {
    where: 'qemu:///system',
    provoked: 'start: disk in a directory QEMU (libvirt-qemu) may not enter',
    expected: 'StorageMissing',
    path: '/tmp/virtprobe/private/disk.config',
    message:
      'internal error: qemu unexpectedly closed the monitor: 2026-11-26T23:59:13.579932Z qemu-system-x86_64: -blockdev {"driver":"file","filename":"/tmp/virtprobe/private/disk.config","node-name":"libvirt-1-storage","auto-read-only":true,"discard":"unmap"}: Could not open \'/tmp/virtprobe/private/disk.config\': Permission denied',
  },
  { where: 'qemu:///system', provoked: 'define: cdrom on IDE with a q35 machine', expected: 'InvalidDomainConfig', message: 'unsupported configuration: IDE controllers are unsupported for this QEMU binary or machine type' },
  { where: 'qemu:///system', provoked: 'define: machine type QEMU does not have', expected: 'InvalidDomainConfig', message: 'XML error: No PCI buses available' },
  { where: 'qemu:///system', provoked: 'lookup of an unknown uuid', expected: 'DomainNotFound', message: "Domain not found: no domain with matching uuid 'aaaaaaaa-0000-4000-8000-00000000ffff'" },
  { where: 'qemu:///system', provoked: 'define: same name, other uuid', expected: 'DomainExists', message: "operation failed: domain 'nova-spawnd-virt-probe-5' already exists with uuid aaaaaaaa-0000-4000-8000-00000000a001" },
  { where: 'qemu:///system', provoked: 'start: bridge that does not exist', expected: 'LibvirtOperationFailed', message: "Cannot get interface MTU on 'nosuchbr0': No such device" },
  { where: 'qemu:///system', provoked: 'start: the domain another connection was starting', expected: 'InvalidDomainState', message: 'Requested operation is not valid: domain is already running' },
  { where: 'qemu:///system', provoked: 'destroy: the domain another connection was destroying', expected: 'InvalidDomainState', message: 'Requested operation is not valid: domain is not running' },
  // a libvirtd killed (SIGKILL or SIGTERM) under a live connection
  { where: 'killed libvirtd', provoked: 'first call after the daemon died', expected: 'LibvirtUnavailable', message: 'Cannot write data: Broken pipe' },
  { where: 'killed libvirtd', provoked: 'every later call on that connection', expected: 'LibvirtUnavailable', message: 'internal error: client socket is closed' },
  { where: 'killed libvirtd', provoked: 'connectOpen, socket left behind (SIGKILL)', expected: 'LibvirtUnavailable', message: "Failed to connect socket to '/tmp/virtprobe/run/libvirt/libvirt-sock': Connection refused" },
  { where: 'killed libvirtd', provoked: 'connectOpen, socket removed (SIGTERM)', expected: 'LibvirtUnavailable', message: "Failed to connect socket to '/tmp/virtprobe/run/libvirt/libvirt-sock': No such file or directory" },
];

/**
 * Connection failures that libvirt 9.0's RPC layer raises (format strings found in libvirt.so.0) but that
 * no run here provoked: a daemon that dies in the middle of a reply, a reset, a keepalive timeout.
 */
export const LIBRARY_SAMPLES: ErrorSample[] = [
  { where: 'libvirt.so.0', provoked: 'daemon closes the socket mid-reply', expected: 'LibvirtUnavailable', message: 'End of file while reading data: Input/output error' },
  { where: 'libvirt.so.0', provoked: 'connection reset', expected: 'LibvirtUnavailable', message: 'Cannot recv data: Connection reset by peer' },
  { where: 'libvirt.so.0', provoked: 'keepalive timeout', expected: 'LibvirtUnavailable', message: 'internal error: connection closed due to keepalive timeout' },
  { where: 'libvirt.so.0', provoked: 'remote host down (qemu+tcp)', expected: 'LibvirtUnavailable', message: "unable to connect to server at 'compute-1:16509': Connection refused" },
];
