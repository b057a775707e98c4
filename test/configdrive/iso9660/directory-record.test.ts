import {
  MAX_RECORD_LENGTH,
  recordLength,
  SELF_IDENTIFIER,
  systemUseOffset,
  writeDirectoryRecord,
} from '../../../src/configdrive/iso9660/directory-record.js';
import { recordDate } from '../../../src/configdrive/iso9660/encoding.js';

test('the identifier is padded to an even offset and records stay even (ECMA-119 9.1.12)', () => {
  expect(systemUseOffset(1)).toBe(34);
  expect(systemUseOffset(2)).toBe(36);
  expect(recordLength(1, 0)).toBe(34); // the root record in a volume descriptor
  expect(recordLength(16, 0)).toBe(50);
  expect(recordLength(1, 7)).toBe(42);
  expect(MAX_RECORD_LENGTH % 2).toBe(0);
});

test('a file record: both-endian extent and size, flags, volume sequence 1, identifier', () => {
  const identifier = Buffer.from('meta_data.json;1', 'latin1');
  const buf = Buffer.alloc(60, 0xee);
  const length = recordLength(identifier.length, 0);
  writeDirectoryRecord(buf, 2, {
    length,
    extent: 0x1234,
    dataLength: 0x10203,
    isDirectory: false,
    identifier,
    date: recordDate(new Date('2024-01-02T03:04:05Z')),
  });
  const record = buf.subarray(2, 2 + length);
  expect(record[0]).toBe(50);
  expect(record[1]).toBe(0);
  expect(record.subarray(2, 10).toString('hex')).toBe('3412000000001234');
  expect(record.subarray(10, 18).toString('hex')).toBe('0302010000010203');
  expect([...record.subarray(18, 25)]).toEqual([124, 1, 2, 3, 4, 5, 0]);
  expect(record[25]).toBe(0);
  expect(record.subarray(28, 32).toString('hex')).toBe('01000001');
  expect(record[32]).toBe(16);
  expect(record.toString('latin1', 33, 49)).toBe('meta_data.json;1');
  expect(buf[0]).toBe(0xee); // nothing written outside the record but the pad byte, left to the zeroed image
});

test('a directory record has the directory flag', () => {
  const buf = Buffer.alloc(34);
  writeDirectoryRecord(buf, 0, {
    length: 34,
    extent: 20,
    dataLength: 2048,
    isDirectory: true,
    identifier: SELF_IDENTIFIER,
    date: recordDate(new Date(0)),
  });
  expect(buf[25]).toBe(0x02);
  expect(buf[32]).toBe(1);
  expect(buf[33]).toBe(0);
});
