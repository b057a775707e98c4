import {
  EC2_VERSION_DIRECTORIES,
  ec2VersionAtLeast,
  OPENSTACK_VERSION_DIRECTORIES,
  openstackVersionAtLeast,
  resolveEc2Version,
  resolveOpenstackVersion,
} from '../../src/metadata/versions.js';
import { runPython } from './python.js';

describe('metadata versions', () => {
  test('the lists are Nova 26 base.VERSIONS and base.OPENSTACK_VERSIONS, plus latest', async () => {
    const script =
      'import json; from nova.api.metadata import base; print(json.dumps([base.VERSIONS, base.OPENSTACK_VERSIONS]))';
    const [ec2, openstack] = JSON.parse(await runPython(['-c', script], null)) as [string[], string[]];
    expect(EC2_VERSION_DIRECTORIES).toEqual([...ec2, 'latest']);
    expect(OPENSTACK_VERSION_DIRECTORIES).toEqual([...openstack, 'latest']);
  });

  test('latest is the newest version', () => {
    expect(resolveEc2Version('latest')).toBe('2009-04-04');
    expect(resolveOpenstackVersion('latest')).toBe('2020-10-14');
    expect(resolveOpenstackVersion('2013-04-04')).toBe('2013-04-04');
  });

  test.each([
    ['2012-08-10', '2013-04-04', false],
    ['2013-04-04', '2013-04-04', true],
    ['2020-10-14', '2013-04-04', true],
    ['2016-06-30', '2016-10-06', false],
  ] as const)('openstack %s includes what %s introduced: %s', (requested, required, expected) => {
    expect(openstackVersionAtLeast(required, requested)).toBe(expected);
  });

  test.each([
    ['1.0', '2007-01-19', false],
    ['2007-01-19', '2007-01-19', true],
    ['2007-03-01', '2007-08-29', false],
    ['2009-04-04', '2008-09-01', true],
  ] as const)('ec2 %s includes what %s introduced: %s', (requested, required, expected) => {
    expect(ec2VersionAtLeast(required, requested)).toBe(expected);
  });
});
