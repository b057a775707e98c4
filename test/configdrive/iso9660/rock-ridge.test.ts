import { recordDate } from '../../../src/configdrive/iso9660/encoding.js';
import { MalformedIsoError } from '../../../src/configdrive/iso9660/malformed-iso-error.js';
import {
  DIRECTORY_MODE,
  FILE_MODE,
  systemUseSize,
  writeSystemUse,
  type RockRidgeRecord,
} from '../../../src/configdrive/iso9660/rock-ridge.js';
import { rockRidgeName, suspSkip } from '../../../src/configdrive/iso9660/system-use-reader.js';

const DATE = recordDate(new Date('2024-01-02T03:04:05Z'));

/** The entries of a system use area as [signature, bytes after the 4-byte header]. */
function entries(area: Buffer): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (let at = 0; at + 4 <= area.length && area[at + 2]! > 0; at += area[at + 2]!) {
    expect(area[at + 3]).toBe(1); // every entry is version 1
    out.push([area.toString('latin1', at, at + 2), area.subarray(at + 4, at + area[at + 2]!)]);
  }
  return out;
}

const fileRecord = (name: string): RockRidgeRecord => ({
  name: Buffer.from(name, 'utf8'),
  isDirectory: false,
  links: 1,
  isRootSelf: false,
});

test('a file record carries RR, PX 0100444 with one link and uid/gid 0, TF and NM, inline', () => {
  const record = fileRecord('meta_data.json');
  const size = systemUseSize(record, 16);
  expect(size).toEqual({ inline: 5 + 36 + 26 + 5 + 14, continuation: 0 });
  const buf = Buffer.alloc(size.inline);
  writeSystemUse(buf, 0, record, undefined, DATE);
  const [rr, px, tf, nm] = entries(buf);
  expect(rr).toEqual(['RR', Buffer.from([0x89])]);
  expect(px![0]).toBe('PX');
  expect(px![1].toString('hex')).toBe('24810000' + '00008124' + '01000000' + '00000001' + '0'.repeat(32));
  expect(FILE_MODE).toBe(0o100444);
  expect(tf![0]).toBe('TF');
  expect(tf![1]).toEqual(Buffer.concat([Buffer.from([0x0e]), DATE, DATE, DATE]));
  expect(nm).toEqual(['NM', Buffer.concat([Buffer.from([0]), Buffer.from('meta_data.json')])]);
});

test("the root's \".\" opens with SP and keeps ER (RRIP_1991A) in a continuation area", () => {
  const record: RockRidgeRecord = { name: undefined, isDirectory: true, links: 4, isRootSelf: true };
  const size = systemUseSize(record, 1);
  expect(size).toEqual({ inline: 7 + 5 + 36 + 26 + 28, continuation: 237 });
  const image = Buffer.alloc(3 * 2048);
  writeSystemUse(image, 100, record, { sector: 2, offset: 10, length: size.continuation }, DATE);
  const inline = entries(image.subarray(100, 100 + size.inline));
  expect(inline.map(([signature]) => signature)).toEqual(['SP', 'RR', 'PX', 'TF', 'CE']);
  expect(inline[0]![1]).toEqual(Buffer.from([0xbe, 0xef, 0]));
  expect(inline[1]![1]).toEqual(Buffer.from([0x81]));
  expect(inline[2]![1].readUInt32LE(0)).toBe(DIRECTORY_MODE);
  expect(DIRECTORY_MODE).toBe(0o40555);
  expect(inline[2]![1].readUInt32BE(12)).toBe(4);
  expect(inline[4]![1].toString('hex')).toBe('02000000' + '00000002' + '0a000000' + '0000000a' + 'ed000000' + '000000ed');
  const [er] = entries(image.subarray(2 * 2048 + 10, 2 * 2048 + 10 + size.continuation));
  expect(er![0]).toBe('ER');
  expect([...er![1].subarray(0, 4)]).toEqual([10, 84, 135, 1]);
  expect(er![1].toString('latin1', 4, 14)).toBe('RRIP_1991A');
  expect(suspSkip(image, 100, 100 + size.inline)).toBe(0);
});

test('a name that does not fit the record moves to a continuation area, split over NM entries past 250 bytes', () => {
  const name = `${'\u65e5'.repeat(80)}.json`; // 245 bytes
  const record = fileRecord(name);
  const size = systemUseSize(record, 33); // the longest primary identifier
  expect(size).toEqual({ inline: 5 + 36 + 26 + 28, continuation: 5 + 245 });
  const image = Buffer.alloc(2 * 2048);
  writeSystemUse(image, 0, record, { sector: 1, offset: 0, length: size.continuation }, DATE);
  expect(rockRidgeName(image, 0, size.inline)).toBe(name);

  const longer = fileRecord('n'.repeat(600));
  const longerSize = systemUseSize(longer, 1);
  expect(longerSize.continuation).toBe(600 + 3 * 5);
  writeSystemUse(image, 0, longer, { sector: 1, offset: 0, length: longerSize.continuation }, DATE);
  const nms = entries(image.subarray(2048, 2048 + longerSize.continuation));
  expect(nms.map(([signature, body]) => [signature, body[0], body.length - 1])).toEqual([
    ['NM', 1, 250],
    ['NM', 1, 250],
    ['NM', 0, 100],
  ]);
  expect(rockRidgeName(image, 0, longerSize.inline)).toBe('n'.repeat(600));
});

describe('reading system use areas', () => {
  test('no NM gives undefined, no SP gives no skip', () => {
    const buf = Buffer.alloc(100);
    const record: RockRidgeRecord = { name: undefined, isDirectory: true, links: 2, isRootSelf: false };
    writeSystemUse(buf, 0, record, undefined, DATE);
    expect(rockRidgeName(buf, 0, 100)).toBeUndefined();
    expect(suspSkip(buf, 0, 100)).toBeUndefined();
  });

  test('an entry running past its area is reported with its place', () => {
    const buf = Buffer.alloc(4096);
    buf.write('NM', 2050, 'latin1');
    buf[2052] = 40;
    buf[2053] = 1;
    expect(() => rockRidgeName(buf, 2050, 2070)).toThrow(
      new MalformedIsoError(2050, 'system use entry "NM" has length 40, beyond its area'),
    );
    expect(() => rockRidgeName(buf, 2050, 2070)).toThrow('sector 1, offset 2');
  });

  test('CE areas outside one sector of the image, or chained without end, are refused', () => {
    const buf = Buffer.alloc(2 * 2048);
    const ce = (at: number, block: number, offset: number, length: number): void => {
      buf.write('CE', at, 'latin1');
      buf[at + 2] = 28;
      buf[at + 3] = 1;
      buf.writeUInt32LE(block, at + 4);
      buf.writeUInt32LE(offset, at + 12);
      buf.writeUInt32LE(length, at + 20);
    };
    ce(0, 9, 0, 28);
    expect(() => rockRidgeName(buf, 0, 28)).toThrow(/sector 0, offset 0: CE continuation area \(sector 9, offset 0, 28 bytes\)/);
    ce(0, 1, 2040, 28);
    expect(() => rockRidgeName(buf, 0, 28)).toThrow(/outside one sector/);
    ce(0, 1, 0, 28);
    ce(2048, 1, 0, 28); // points at itself
    expect(() => rockRidgeName(buf, 0, 28)).toThrow(/more than 32 chained CE continuation areas/);
  });
});
