import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBootSector } from '../../../src/configdrive/vfat/boot-sector.js';
import {
  ATTRIBUTES,
  ENTRY_SIZE,
  longNameEntryCount,
  readLongNameFragment,
  readShortEntry,
  shortNameChecksum,
  writeLongNameEntries,
  writeShortEntry,
} from '../../../src/configdrive/vfat/directory-entry.js';
import { toFatTimestamp } from '../../../src/configdrive/vfat/fat-time.js';
import { regionsOf } from '../../../src/configdrive/vfat/volume-layout.js';
import { makeTempDir, run } from './support.js';

test('LFN entries are byte for byte what mtools writes: order, last flag, checksum, NUL and 0xFFFF padding', async () => {
  // 14, 13 (fills its entry: no NUL), 26, 27 characters and non-ASCII UCS-2.
  const names = ['meta_data.json', 'abcdefghijklm', 'abcdefghijklmnopqrstuvwxyz', 'vendor_data2.json.backup.1', 'ñandú-éé-largo.txt'];
  const temp = await makeTempDir();
  try {
    const image = join(temp.path, 'mtools.img');
    expect((await run('mkfs.vfat', ['-C', image, '65536'])).code).toBe(0);
    const sources = names.map((name) => join(temp.path, name));
    for (const source of sources) await writeFile(source, 'x');
    expect(await run('mcopy', ['-i', image, ...sources, '::/'])).toMatchObject({ code: 0, stderr: '' });

    const bytes = await readFile(image);
    let offset = regionsOf(decodeBootSector(bytes)).rootOffset;
    for (const name of names) {
      const count = longNameEntryCount(name);
      const shortName = readShortEntry(bytes, offset + count * ENTRY_SIZE).shortName;
      const ours = new Uint8Array(count * ENTRY_SIZE);
      expect(writeLongNameEntries(ours, 0, name, shortNameChecksum(shortName))).toBe(ours.length);
      expect(Buffer.from(ours).toString('hex')).toBe(bytes.subarray(offset, offset + ours.length).toString('hex'));
      offset += ours.length + ENTRY_SIZE;
    }
  } finally {
    await temp.remove();
  }
});

test('a short entry reads back as written, and LFN fragments carry their part of the name', () => {
  const bytes = new Uint8Array(4 * ENTRY_SIZE);
  const end = writeLongNameEntries(bytes, 0, 'meta_data.json', 0x5a);
  writeShortEntry(bytes, end, { shortName: 'META_D~1JSO', attributes: ATTRIBUTES.archive, firstCluster: 0x1234, size: 0x01020304 }, toFatTimestamp(new Date('2024-05-06T07:08:09.500Z')));
  expect(readLongNameFragment(bytes, 0)).toEqual({ order: 2, last: true, checksum: 0x5a, text: 'n' });
  expect(readLongNameFragment(bytes, ENTRY_SIZE)).toEqual({ order: 1, last: false, checksum: 0x5a, text: 'meta_data.jso' });
  expect(readShortEntry(bytes, end)).toEqual({ shortName: 'META_D~1JSO', displayName: 'META_D~1.JSO', attributes: 0x20, firstCluster: 0x1234, size: 0x01020304 });
});
