import {
  MAX_DIRECTORIES,
  planLayout,
  UnsupportedDriveTreeError,
  type IsoLayout,
  type PlannedTree,
} from '../../../src/configdrive/iso9660/layout.js';
import { toDirectoryTree, type DriveTree } from '../../../src/configdrive/tree.js';
import { novaTree } from './helpers/trees.js';

const SECTOR = 2048;
const plan = (tree: DriveTree): IsoLayout => planLayout(toDirectoryTree(tree));
const text = (value: string): Uint8Array => Buffer.from(value);

/** [first sector, sector count] of everything that takes space, in image order. */
function extents(layout: IsoLayout): [string, number, number][] {
  const out: [string, number, number][] = [['descriptors', 16, 3]];
  for (const [name, tree] of [['primary', layout.primary], ['joliet', layout.joliet]] as const) {
    const tableSectors = Math.ceil(tree.pathTableSize / SECTOR);
    out.push([`${name} L`, tree.pathTableL, tableSectors], [`${name} M`, tree.pathTableM, tableSectors]);
  }
  for (const [name, tree] of [['primary', layout.primary], ['joliet', layout.joliet]] as const) {
    tree.directories.forEach((d, i) => out.push([`${name} dir ${i}`, d.extent, d.size / SECTOR]));
  }
  for (const file of layout.files) {
    if (file.data.length) out.push(['file', file.extent, Math.ceil(file.data.length / SECTOR)]);
  }
  return out;
}

function expectWellFormedTree(tree: PlannedTree): void {
  tree.directories.forEach((directory, index) => {
    expect(directory.size % SECTOR).toBe(0);
    expect(tree.pathTable[index]!.extent).toBe(directory.extent);
    const [self, parent, ...children] = directory.records;
    expect([...self!.identifier, ...parent!.identifier]).toEqual([0, 1]);
    expect(self!.target).toBe(directory);
    expect(parent!.target).toBe(tree.directories[tree.pathTable[index]!.parentNumber - 1]);
    const ids = children.map((r) => Buffer.from(r.identifier).toString('latin1').replace(/;1$/, ''));
    expect(ids).toEqual([...ids].sort());
    let end = 0;
    for (const record of directory.records) {
      expect(record.offset).toBeGreaterThanOrEqual(end);
      expect(Math.floor(record.offset / SECTOR)).toBe(Math.floor((record.offset + record.length - 1) / SECTOR));
      expect(record.length % 2).toBe(0);
      expect(record.length).toBeLessThanOrEqual(254);
      end = record.offset + record.length;
    }
    expect(end).toBeLessThanOrEqual(directory.size);
  });
}

describe('the layout of a Nova-like tree', () => {
  // An injected file may be empty (Nova writes it as is).
  const layout = plan(new Map([...novaTree(), ['openstack/content/0002', new Uint8Array(0)]]));

  test('puts path tables, directories and files in disjoint extents, in that order, after the descriptors', () => {
    const all = extents(layout);
    for (let i = 1; i < all.length; i++) {
      const [, start, count] = all[i - 1]!;
      expect(all[i]![1]).toBeGreaterThanOrEqual(start + count);
    }
    expect(all[1]![1]).toBe(19);
    const [, lastStart, lastCount] = all.at(-1)!;
    expect(layout.totalSectors).toBe(Math.ceil((lastStart + lastCount) / 2) * 2);
  });

  test('orders the path table by level, parent and name', () => {
    const names = layout.primary.pathTable.map((e) => [e.parentNumber, Buffer.from(e.identifier).toString('latin1')]);
    expect(names.slice(0, 6)).toEqual([
      [1, '\0'],
      [1, 'ec2'],
      [1, 'openstack'],
      [2, '2009_04_04'],
      [2, 'latest'],
      [3, '2012_08_10'],
    ]);
    expect(names.at(-1)).toEqual([3, 'latest']);
  });

  test('has "." and ".." first, sorted records that never cross a sector, in both trees', () => {
    expectWellFormedTree(layout.primary);
    expectWellFormedTree(layout.joliet);
  });

  test('shares file extents between the trees and gives empty files extent 0', () => {
    const fileTargets = (tree: PlannedTree) =>
      new Set(tree.directories.flatMap((d) => d.records.map((r) => r.target).filter((t) => t.kind === 'file')));
    expect(fileTargets(layout.joliet)).toEqual(fileTargets(layout.primary));
    const empty = layout.files.filter((f) => f.data.length === 0);
    expect(empty).toHaveLength(1);
    expect(empty[0]!.extent).toBe(0);
  });

  test('stores the same bytes object once: every file holding it points at one extent', () => {
    const shared = text('#cloud-config\n');
    const sharing = plan(new Map([['a/user_data', shared], ['b/user_data', shared], ['c/user_data', text('#cloud-config\n')]]));
    const fileRecords = sharing.primary.directories.flatMap((d) => d.records.filter((r) => r.target.kind === 'file'));
    const extentsOf = fileRecords.map((r) => (r.target as { extent: number }).extent);
    expect(fileRecords).toHaveLength(3);
    // a and b share; c has equal bytes but is another object, so it gets its own.
    expect(extentsOf[0]).toBe(extentsOf[1]);
    expect(extentsOf[2]).toBe(extentsOf[0]! + 1);
    expect(sharing.files.map((f) => f.extent)).toEqual([extentsOf[0], extentsOf[2]]);
    const unshared = plan(new Map([['a/user_data', shared], ['b/user_data', text('#cloud-config\n')], ['c/user_data', text('#cloud-config\n')]]));
    expect(unshared.files).toHaveLength(3);
  });

  test('needs no Rock Ridge continuation area but the root\'s ER', () => {
    const areas = layout.primary.directories.flatMap((d) => d.records.flatMap((r) => r.rockRidge?.continuation ?? []));
    expect(areas).toHaveLength(1);
    expect(areas[0]!.length).toBe(237);
  });
});

test('a directory of many long names spans sectors, and continuation areas pack without crossing one', () => {
  const tree = new Map<string, Uint8Array>();
  for (let i = 0; i < 300; i++) tree.set(`d/${String(i).padStart(3, '0')}-${'\u00e9'.repeat(100)}`, text(`${i}`));
  const layout = plan(tree);
  expectWellFormedTree(layout.primary);
  expectWellFormedTree(layout.joliet);
  expect(layout.primary.directories[1]!.size).toBeGreaterThan(10 * SECTOR);
  const areas = layout.primary.directories.flatMap((d) => d.records.flatMap((r) => r.rockRidge?.continuation ?? []));
  expect(areas).toHaveLength(301);
  let end = 0;
  for (const area of areas) {
    const start = area.sector * SECTOR + area.offset;
    expect(start).toBeGreaterThanOrEqual(end);
    expect(area.offset + area.length).toBeLessThanOrEqual(SECTOR);
    end = start + area.length;
  }
  const lastDirectory = layout.joliet.directories.at(-1)!;
  expect(areas[0]!.sector).toBe(lastDirectory.extent + lastDirectory.size / SECTOR);
  expect(layout.files[0]!.extent).toBe(Math.ceil(end / SECTOR));
});

test('is the same for the same tree', () => {
  expect(plan(novaTree())).toEqual(plan(novaTree()));
});

describe('trees ISO 9660 cannot carry are refused, naming the path', () => {
  test('directories deeper than level 8', () => {
    expect(() => plan(new Map([['1/2/3/4/5/6/7/file', text('ok')]]))).not.toThrow();
    expect(() => plan(new Map([['1/2/3/4/5/6/7/8/file', text('too deep')]]))).toThrow(
      new UnsupportedDriveTreeError('1/2/3/4/5/6/7/8', 'directory is at level 9; ISO 9660 allows 8 (the root is level 1)'),
    );
    expect(() => plan(new Map([['1/2/3/4/5/6/7/8/file', text('')]]))).toThrow(
      'config drive path "1/2/3/4/5/6/7/8" cannot be written as ISO 9660',
    );
  });

  test('names longer than 255 UTF-8 bytes', () => {
    expect(() => plan(new Map([[`d/${'\u00e9'.repeat(127)}x`, text('')]]))).not.toThrow();
    expect(() => plan(new Map([[`d/${'\u00e9'.repeat(128)}`, text('')]]))).toThrow(
      `config drive path "d/${'\u00e9'.repeat(128)}" cannot be written as ISO 9660: name is 256 bytes in UTF-8; at most 255`,
    );
  });

  test('names that are not valid Unicode', () => {
    expect(() => plan(new Map([['d/a\ud800b', text('')]]))).toThrow(/"d\/a\\ud800b" cannot be written as ISO 9660: name is not valid Unicode/);
  });

  test('more directories than the path table can number', () => {
    const tree = new Map<string, Uint8Array>();
    for (let i = 0; i < MAX_DIRECTORIES; i++) tree.set(`${i}/f`, text(''));
    expect(() => plan(tree)).toThrow(/more than 65535 directories/);
  });
});
