import { jolietIdentifiers, primaryIdentifiers } from '../../../src/configdrive/iso9660/names.js';
import type { DirectoryNode, FileNode } from '../../../src/configdrive/tree.js';

const file = (name: string): FileNode => ({ kind: 'file', name, data: new Uint8Array(0) });
const directory = (name: string): DirectoryNode => ({ kind: 'directory', name, children: [] });
const primary = (...nodes: (FileNode | DirectoryNode)[]): string[] => primaryIdentifiers(nodes);
const joliet = (...nodes: (FileNode | DirectoryNode)[]): string[] => jolietIdentifiers(nodes);

describe('primary identifiers', () => {
  test('are what genisoimage -l -ldots -allow-lowercase -allow-multidot makes of Nova names', () => {
    expect(primary(directory('2012-08-10'), directory('latest'), directory('ec2'))).toEqual(['2012_08_10', 'latest', 'ec2']);
    expect(primary(file('meta-data.json'), file('user_data'), file('0000'), file('vendor_data2.json'))).toEqual([
      'meta_data.json',
      'user_data.',
      '0000.',
      'vendor_data2.json',
    ]);
  });

  test('keep leading dots, several dots, lowercase, and cut long names like genisoimage', () => {
    expect(
      primary(
        file('.hidden'),
        file('many.dots.in.name.tar.gz'),
        file('very_long_file_name_that_exceeds_thirty_one_characters.json'),
        file('very_long_file_name_that_exceeds_thirty_one_characters.txt'),
        directory('a.b.c'),
        directory('a_directory_name_longer_than_thirty_one'),
      ),
    ).toEqual([
      '.hidden',
      'many.dots.in.name.tar.gz',
      'very_long_file_name_that_e.json',
      'very_long_file_name_that_ex.txt',
      'a.b.c',
      'a_directory_name_longer_than_th',
    ]);
  });

  test('replace every other character, one "_" per code point', () => {
    expect(primary(file('has space'), file('sc;ol*q?'), file('\u00fcn\u00ef c\u00f6d\u00e9'), file('a\u{1F600}b.txt'))).toEqual([
      'has_space.',
      'sc_ol_q_.',
      '_n__c_d_.',
      'a_b.txt',
    ]);
  });

  test('drop an extension longer than half the limit rather than leave no stem', () => {
    const [identifier] = primary(file(`x.${'e'.repeat(40)}`));
    expect(identifier).toBe(`x.${'e'.repeat(29)}`);
    const [noDot] = primary(file('n'.repeat(40)));
    expect(noDot).toBe(`${'n'.repeat(30)}.`);
  });

  test('settle collisions (case-insensitive, file against directory) with _N, names needing no change first', () => {
    expect(primary(file('A.TXT'), file('a.txt'))).toEqual(['A.TXT', 'a_1.txt']);
    expect(primary(file('a b'), directory('a-b'), file('a_b'), file('A_B'))).toEqual(['a_b_2.', 'a_b_3', 'a_b_1.', 'A_B.']);
    const long = 'x'.repeat(40);
    expect(primary(file(`${long}1.json`), file(`${long}2.json`))).toEqual([`${'x'.repeat(26)}.json`, `${'x'.repeat(24)}_1.json`]);
  });

  test('do not depend on the order of the children', () => {
    const nodes = [file('a b'), directory('a-b'), file('a_b'), file('A_B'), file('c')];
    const byName = (list: (FileNode | DirectoryNode)[]): Map<string, string> => {
      const ids = primary(...list);
      return new Map(list.map((node, index) => [node.name, ids[index]!]));
    };
    expect(byName([...nodes].reverse())).toEqual(byName(nodes));
  });
});

describe('Joliet identifiers', () => {
  test('keep names of up to 64 characters, any script, no version', () => {
    const name = `${'\u65e5\u672c'.repeat(20)}-\u00fc.json`;
    expect(joliet(file('meta_data.json'), file('user_data'), directory('2012-08-10'), file(name))).toEqual([
      'meta_data.json',
      'user_data',
      '2012-08-10',
      name,
    ]);
  });

  test('replace the characters Joliet forbids', () => {
    expect(joliet(file('a*b:c;d?e\\f\u0001'))).toEqual(['a_b_c_d_e_f_']);
  });

  test('cut longer names to 64 code units, keeping a short extension and whole surrogate pairs', () => {
    expect(joliet(file(`${'s'.repeat(70)}.json`))).toEqual([`${'s'.repeat(59)}.json`]);
    expect(joliet(file(`${'x'.repeat(63)}\u{1F600}y`))).toEqual(['x'.repeat(63)]);
    expect(joliet(file(`${'x'.repeat(62)}\u{1F600}y`))).toEqual([`${'x'.repeat(62)}\u{1F600}`]);
  });

  test('keep cut names unique and leave exact names alone', () => {
    const stem = 's'.repeat(70);
    expect(joliet(file(`${stem}1.json`), file(`${stem}2.json`), file(`${'s'.repeat(59)}.json`))).toEqual([
      `${'s'.repeat(57)}_1.json`,
      `${'s'.repeat(57)}_2.json`,
      `${'s'.repeat(59)}.json`,
    ]);
    expect(joliet(file('a:b'), file('a?b'), file('a_b'))).toEqual(['a_b_1', 'a_b_2', 'a_b']);
    expect(joliet(file('A'), file('a'))).toEqual(['A', 'a']); // Joliet keeps case
  });
});
