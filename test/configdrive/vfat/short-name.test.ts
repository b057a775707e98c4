import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBootSector } from '../../../src/configdrive/vfat/boot-sector.js';
import { ATTRIBUTES, ENTRY_SIZE, readShortEntry } from '../../../src/configdrive/vfat/directory-entry.js';
import { ShortNameTable } from '../../../src/configdrive/vfat/short-name.js';
import { regionsOf } from '../../../src/configdrive/vfat/volume-layout.js';
import { makeTempDir, run } from './support.js';

function assignAll(names: string[]): string[] {
  const table = new ShortNameTable();
  return names.map((name) => table.assign(name).shortName);
}

test.each([
  ['meta_data.json', 'META_D~1JSO', false],
  ['2012-08-10', '2012-0~1   ', false],
  ['latest', 'LATEST     ', false],
  ['ABC.TXT', 'ABC     TXT', true],
  ['0000', '0000       ', true],
  ['README.md', 'README  MD ', false],
  ['a+b.txt', 'A_B~1   TXT', false],
  ['.json', 'JSON~1     ', false],
  ['é.txt', '_~1     TXT', false],
  ['con', 'CON~1      ', false],
  ['LPT1.TXT', 'LPT1~1  TXT', false],
])('%j gets the short name %j (exact: %j)', (name, shortName, exact) => {
  expect(new ShortNameTable().assign(name)).toEqual({ shortName, exact });
});

test('numeric tails count up and shorten the base so the name stays 8.3', () => {
  const names = Array.from({ length: 12 }, (_, i) => `meta_data_${i}.json`);
  const assigned = assignAll(names);
  expect(assigned.slice(0, 3)).toEqual(['META_D~1JSO', 'META_D~2JSO', 'META_D~3JSO']);
  expect(assigned[9]).toBe('META_~10JSO');
  expect(new Set(assigned).size).toBe(names.length);
});

test('a reserved name (the volume label) is never handed out', () => {
  const table = new ShortNameTable();
  table.reserve('CONFIG-2   ');
  expect(table.assign('CONFIG-2')).toEqual({ shortName: 'CONFIG~1   ', exact: false });
});

test('the short names match what mtools generates for the same names in the same order', async () => {
  // mtools implements the same Windows basis-name + numeric-tail algorithm; it shows 8.3-fitting lowercase
  // names with NT's case flags instead of an LFN, but the stored 11 bytes are the same.
  const names = [
    'meta_data.json', 'meta_data2.json', 'meta_datum.json', 'latest', 'ABC.TXT', 'a+b.txt', 'ab.c.d', '.json',
    'user-data', 'vendor_data2.json', '2012-08-10', 'x.tar.gz', 'verylongname', 'verylongnamf', 'a b',
    'file.html', '[x];=,.txt', 'Makefile', 'README.md', '..x', 'x..y', '0000', 'a.b c',
  ];
  const temp = await makeTempDir();
  try {
    const image = join(temp.path, 'mtools.img');
    expect((await run('mkfs.vfat', ['-C', image, '65536'])).code).toBe(0);
    const sources = names.map((name, i) => join(temp.path, `${i}`, name));
    for (const source of sources) {
      await run('mkdir', ['-p', join(source, '..')]);
      await writeFile(source, 'x');
    }
    expect(await run('mcopy', ['-i', image, ...sources, '::/'])).toMatchObject({ code: 0, stderr: '' });

    const bytes = await readFile(image);
    const { rootOffset, rootBytes } = regionsOf(decodeBootSector(bytes));
    const theirs: string[] = [];
    for (let offset = rootOffset; offset < rootOffset + rootBytes && bytes[offset] !== 0; offset += ENTRY_SIZE) {
      if (bytes[offset + 11] !== ATTRIBUTES.longName) theirs.push(readShortEntry(bytes, offset).shortName);
    }
    expect(assignAll(names)).toEqual(theirs);
  } finally {
    await temp.remove();
  }
});
