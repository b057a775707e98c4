import { SELF_IDENTIFIER } from '../../../src/configdrive/iso9660/directory-record.js';
import { pathTableSize, writePathTable, type PathTableEntry } from '../../../src/configdrive/iso9660/path-table.js';

const entries: PathTableEntry[] = [
  { identifier: SELF_IDENTIFIER, extent: 23, parentNumber: 1 },
  { identifier: Buffer.from('ec2'), extent: 24, parentNumber: 1 },
  { identifier: Buffer.from('openstack'), extent: 0x0102, parentNumber: 1 },
  { identifier: Buffer.from('latest'), extent: 26, parentNumber: 2 },
];

test('entries are 8 bytes + identifier, padded to even (ECMA-119 9.4)', () => {
  expect(pathTableSize(entries)).toBe(10 + 12 + 18 + 14);
});

test('type L and type M differ only in byte order', () => {
  const size = pathTableSize(entries);
  const l = Buffer.alloc(size);
  const m = Buffer.alloc(size);
  writePathTable(l, 0, entries, 'L');
  writePathTable(m, 0, entries, 'M');
  expect(l.subarray(0, 10).toString('hex')).toBe('0100' + '17000000' + '0100' + '0000');
  expect(m.subarray(0, 10).toString('hex')).toBe('0100' + '00000017' + '0001' + '0000');
  expect(l.subarray(22, 40).toString('hex')).toBe('0900' + '02010000' + '0100' + Buffer.from('openstack').toString('hex') + '00');
  expect(m.subarray(22, 40).toString('hex')).toBe('0900' + '00000102' + '0001' + Buffer.from('openstack').toString('hex') + '00');
  expect(l.toString('latin1', 48, 54)).toBe('latest');
  expect(m.readUInt16BE(46)).toBe(2);
});
