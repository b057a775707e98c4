import { recordDate, ucs2be, volumeDate } from '../../../src/configdrive/iso9660/encoding.js';
import {
  writeTerminator,
  writeVolumeDescriptor,
  type VolumeDescriptor,
} from '../../../src/configdrive/iso9660/volume-descriptor.js';

const DATE = new Date('2024-01-02T03:04:05Z');
const descriptor = (kind: VolumeDescriptor['kind']): VolumeDescriptor => ({
  kind,
  volumeId: 'config-2',
  publisher: 'nova-spawnd 1.2.3',
  volumeSpaceSize: 100,
  pathTableSize: 42,
  pathTableL: 19,
  pathTableM: 20,
  rootExtent: 23,
  rootSize: 2048,
  volumeDate: volumeDate(DATE),
  recordDate: recordDate(DATE),
});

function written(kind: VolumeDescriptor['kind']): Buffer {
  const image = Buffer.alloc(2 * 2048);
  writeVolumeDescriptor(image, 1, descriptor(kind));
  expect(image.subarray(0, 2048).every((byte) => byte === 0)).toBe(true);
  return image.subarray(2048);
}

test('the primary volume descriptor puts every field at its ECMA-119 8.4 offset', () => {
  const pvd = written('primary');
  expect(pvd[0]).toBe(1);
  expect(pvd.toString('latin1', 1, 7)).toBe('CD001\x01');
  expect(pvd.toString('latin1', 8, 40)).toBe('LINUX'.padEnd(32));
  expect(pvd.toString('latin1', 40, 72)).toBe('config-2'.padEnd(32));
  expect(pvd.subarray(80, 88).toString('hex')).toBe('6400000000000064');
  expect(pvd.subarray(88, 120).every((byte) => byte === 0)).toBe(true);
  expect(pvd.subarray(120, 132).toString('hex')).toBe('01000001' + '01000001' + '00080800');
  expect(pvd.subarray(132, 140).toString('hex')).toBe('2a0000000000002a');
  expect(pvd.readUInt32LE(140)).toBe(19);
  expect(pvd.readUInt32LE(144)).toBe(0);
  expect(pvd.readUInt32BE(148)).toBe(20);
  expect(pvd.readUInt32BE(152)).toBe(0);
  const root = pvd.subarray(156, 190);
  expect([root[0], root.readUInt32LE(2), root.readUInt32LE(10), root[25], root[32], root[33]]).toEqual([34, 23, 2048, 2, 1, 0]);
  expect(pvd.toString('latin1', 190, 318).trim()).toBe('');
  expect(pvd.toString('latin1', 318, 446)).toBe('nova-spawnd 1.2.3'.padEnd(128));
  expect(pvd.toString('latin1', 574, 702).trimEnd()).toBe('NOVA-SPAWND');
  expect(pvd.toString('latin1', 702, 813)).toBe(' '.repeat(111));
  for (const offset of [813, 830, 864]) expect(pvd.toString('latin1', offset, offset + 17)).toBe('2024010203040500\0');
  expect(pvd.toString('latin1', 847, 864)).toBe('0000000000000000\0');
  expect(pvd[881]).toBe(1);
});

test('the Joliet descriptor is type 2 with escape %/E and UCS-2BE text', () => {
  const svd = written('joliet');
  expect(svd[0]).toBe(2);
  expect(svd.toString('latin1', 88, 91)).toBe('%/E');
  expect(svd.subarray(40, 72)).toEqual(ucs2be('config-2'.padEnd(16)));
  expect(svd.subarray(8, 40)).toEqual(ucs2be('LINUX'.padEnd(16)));
  expect(svd.subarray(318, 446)).toEqual(ucs2be('nova-spawnd 1.2.3'.padEnd(64)));
  expect(svd.subarray(702, 739)).toEqual(Buffer.concat([ucs2be(' '.repeat(18)), Buffer.alloc(1)]));
  expect(svd.readUInt32LE(140)).toBe(19);
});

test('the terminator is type 255', () => {
  const image = Buffer.alloc(2048);
  writeTerminator(image, 0);
  expect(image.subarray(0, 8).toString('latin1')).toBe('\xffCD001\x01\0');
});
