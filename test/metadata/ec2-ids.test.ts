import { Ec2IdError, ec2IdsFromUuids } from '../../src/metadata/ec2-ids.js';
import { fullInstance } from './fixtures.js';

describe('EC2 ids from UUIDs', () => {
  test('%08x of the first 32 bits of each UUID', () => {
    const instance = fullInstance({ kernel_id: 'AAAA1111-0000-4000-8000-000000000001', ramdisk_id: 'bbbb2222000040008000000000000002' });
    expect(ec2IdsFromUuids(instance)).toEqual({
      instance_id: 'i-6f1c9a2e',
      ami_id: 'ami-1a2b3c4d',
      kernel_id: 'aki-aaaa1111',
      ramdisk_id: 'ari-bbbb2222',
    });
  });

  test('no image (boot from volume), kernel or ramdisk: null', () => {
    expect(ec2IdsFromUuids(fullInstance({ image_ref: '', kernel_id: null, ramdisk_id: '' }))).toMatchObject({
      ami_id: null,
      kernel_id: null,
      ramdisk_id: null,
    });
  });

  test('a value that is not a UUID is an error naming the field', () => {
    expect(() => ec2IdsFromUuids(fullInstance({ image_ref: 'debian-12' }))).toThrow(new Ec2IdError('image_ref', 'debian-12'));
    expect(() => ec2IdsFromUuids(fullInstance({ image_ref: 'debian-12' }))).toThrow('instance.image_ref "debian-12"');
  });
});
