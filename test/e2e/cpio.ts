/**
 * A cpio archive in the "newc" format the kernel unpacks as initramfs (Documentation/driver-api/early-userspace/
 * buffer-format.rst). Written here rather than with cpio(1) so that the archive can hold /dev/console without
 * mknod, and is byte-for-byte reproducible (owner root, mtime 0).
 */

export type CpioEntry =
  | { kind: 'directory'; path: string }
  | { kind: 'file'; path: string; data: Uint8Array; executable?: boolean }
  | { kind: 'character-device'; path: string; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';

function modeOf(entry: CpioEntry): number {
  switch (entry.kind) {
    case 'directory':
      return S_IFDIR | 0o755;
    case 'file':
      return S_IFREG | (entry.executable ? 0o755 : 0o644);
    case 'character-device':
      return S_IFCHR | 0o600;
  }
}

const pad4 = (length: number): Buffer => Buffer.alloc((4 - (length % 4)) % 4);
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

function record(inode: number, mode: number, path: string, data: Uint8Array, rdev: readonly [number, number]): Buffer[] {
  const name = Buffer.from(`${path}\0`, 'utf8');
  const header = Buffer.from(
    '070701' +
      [inode, mode, 0, 0, (mode & S_IFDIR) === S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rdev[0], rdev[1], name.length, 0]
        .map(hex8)
        .join(''),
    'latin1',
  );
  // The name is padded so that header + name ends on a 4-byte boundary, then the data on its own.
  return [header, name, pad4(header.length + name.length), Buffer.from(data), pad4(data.length)];
}

/** Entries are written in the given order: list a directory before what it contains. */
export function newcArchive(entries: readonly CpioEntry[]): Buffer {
  const parts = entries.flatMap((entry, i) =>
    record(
      i + 1,
      modeOf(entry),
      entry.path,
      entry.kind === 'file' ? entry.data : new Uint8Array(),
      entry.kind === 'character-device' ? [entry.major, entry.minor] : [0, 0],
    ),
  );
  return Buffer.concat([...parts, ...record(0, 0, TRAILER, new Uint8Array(), [0, 0])]);
}
