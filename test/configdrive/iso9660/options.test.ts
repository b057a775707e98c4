import { buildIso, InvalidIsoOptionError, type IsoOptions } from '../../../src/configdrive/iso9660/index.js';

const VALID: IsoOptions = { volumeId: 'config-2', publisher: 'nova-spawnd 0.1.0', recordedAt: new Date('2024-01-02T03:04:05Z') };
const tree = new Map([['openstack/latest/meta_data.json', Buffer.from('{}')]]);
const build = (change: Partial<IsoOptions>): Buffer => buildIso(tree, { ...VALID, ...change });

test.each([
  [{ volumeId: '' }, 'invalid ISO option volumeId "": must be 1 to 16 characters of A-Z a-z 0-9 _ . -'],
  [{ volumeId: 'config 2' }, 'invalid ISO option volumeId "config 2"'],
  [{ volumeId: 'a-volume-id-of-17' }, 'invalid ISO option volumeId "a-volume-id-of-17"'],
  [{ publisher: 'p'.repeat(65) }, `invalid ISO option publisher "${'p'.repeat(65)}": must be at most 64 printable ASCII characters`],
  [{ publisher: 'nova-spawnd \u00fc' }, 'invalid ISO option publisher "nova-spawnd \u00fc"'],
  [{ publisher: 'line\nbreak' }, 'invalid ISO option publisher "line\\nbreak"'],
  [{ publisher: '_PUBLISHER.TXT' }, 'invalid ISO option publisher "_PUBLISHER.TXT": must not start with "_"'],
  [{ recordedAt: new Date(Number.NaN) }, 'invalid ISO option recordedAt Invalid Date: must be a valid Date'],
  [{ recordedAt: '2024-01-01' as unknown as Date }, 'invalid ISO option recordedAt "2024-01-01": must be a valid Date'],
  [{ recordedAt: new Date('1899-12-31T23:59:59Z') }, 'invalid ISO option recordedAt 1899-12-31T23:59:59.000Z: year must be 1900 to 2155 (UTC)'],
  [{ recordedAt: new Date('2156-01-01T00:00:00Z') }, 'year must be 1900 to 2155'],
])('%j is refused: %s', (change, message) => {
  expect(() => build(change)).toThrow(InvalidIsoOptionError);
  expect(() => build(change)).toThrow(message);
});

test('the errors name the option and carry the value', () => {
  try {
    build({ volumeId: 'config/2' });
    throw new Error('not refused');
  } catch (error) {
    expect(error).toMatchObject({ name: 'InvalidIsoOptionError', option: 'volumeId', value: 'config/2' });
  }
});

test('limits themselves are accepted', () => {
  expect(() => build({ volumeId: 'CONFIG-2.x_y-16c', publisher: '~'.repeat(64), recordedAt: new Date('2155-12-31T23:59:59Z') })).not.toThrow();
  expect(() => build({ publisher: '', recordedAt: new Date('1900-01-01T00:00:00Z') })).not.toThrow();
});
