import {
  recordDate,
  sectorsFor,
  ucs2be,
  UNSPECIFIED_VOLUME_DATE,
  volumeDate,
  writeAsciiField,
  writeBothEndian16,
  writeBothEndian32,
  writeUcs2Field,
} from '../../../src/configdrive/iso9660/encoding.js';

test('both-endian numbers are little-endian then big-endian (ECMA-119 7.2.3, 7.3.3)', () => {
  const buf = Buffer.alloc(12);
  writeBothEndian16(buf, 0, 0x0102);
  writeBothEndian32(buf, 4, 0x01020304);
  expect(buf.toString('hex')).toBe('02010102' + '0403020101020304');
});

test('sectorsFor rounds up to whole 2048-byte sectors', () => {
  expect([0, 1, 2048, 2049].map(sectorsFor)).toEqual([0, 1, 1, 2]);
});

test('dates are written in UTC: 7-byte record dates and 17-byte descriptor dates', () => {
  const date = new Date('2024-02-29T13:14:15.678Z');
  expect([...recordDate(date)]).toEqual([124, 2, 29, 13, 14, 15, 0]);
  expect(volumeDate(date).toString('latin1', 0, 16)).toBe('2024022913141567');
  expect(volumeDate(date)[16]).toBe(0);
  expect(UNSPECIFIED_VOLUME_DATE.toString('latin1')).toBe('0000000000000000\0');
});

test('ASCII fields are space padded', () => {
  const buf = Buffer.alloc(10, 0xff);
  writeAsciiField(buf, 1, 8, 'LINUX');
  expect(buf.toString('latin1')).toBe('\xffLINUX   \xff');
});

test('UCS-2 fields are big-endian, padded with UCS-2 spaces, odd widths ending in 00', () => {
  expect(ucs2be('c\u00fc\u{1F600}').toString('hex')).toBe('0063' + '00fc' + 'd83dde00');
  const buf = Buffer.alloc(9, 0xff);
  writeUcs2Field(buf, 0, 7, 'ab');
  expect(buf.toString('hex')).toBe('00610062002000' + 'ffff');
  const full = Buffer.alloc(4);
  writeUcs2Field(full, 0, 4, 'abc'); // cut to the field
  expect(full.toString('hex')).toBe('00610062');
});
