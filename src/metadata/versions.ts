/**
 * The metadata versions of nova/api/metadata/base.py. Versions are compared by their position in these
 * lists (Nova's _check_version), never as dates.
 */

export const LATEST = 'latest';

/** base.VERSIONS: the EC2 API versions. */
export const EC2_VERSIONS = [
  '1.0',
  '2007-01-19',
  '2007-03-01',
  '2007-08-29',
  '2007-10-10',
  '2007-12-15',
  '2008-02-01',
  '2008-09-01',
  '2009-04-04',
] as const;
export type Ec2Version = (typeof EC2_VERSIONS)[number];

export const FOLSOM = '2012-08-10';
export const GRIZZLY = '2013-04-04';
export const HAVANA = '2013-10-17';
export const LIBERTY = '2015-10-15';
export const NEWTON_ONE = '2016-06-30';
export const NEWTON_TWO = '2016-10-06';
export const OCATA = '2017-02-22';
export const ROCKY = '2018-08-27';
export const VICTORIA = '2020-10-14';

/** base.OPENSTACK_VERSIONS, oldest first. */
export const OPENSTACK_VERSIONS = [FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY, VICTORIA] as const;
export type OpenstackVersion = (typeof OPENSTACK_VERSIONS)[number];

/** A directory name under ec2/ or openstack/: a version or `latest`. */
export type Ec2VersionDirectory = Ec2Version | typeof LATEST;
export type OpenstackVersionDirectory = OpenstackVersion | typeof LATEST;

export const EC2_VERSION_DIRECTORIES: readonly Ec2VersionDirectory[] = [...EC2_VERSIONS, LATEST];
export const OPENSTACK_VERSION_DIRECTORIES: readonly OpenstackVersionDirectory[] = [...OPENSTACK_VERSIONS, LATEST];

/** What `latest` stands for: the newest version. */
export function resolveEc2Version(directory: Ec2VersionDirectory): Ec2Version {
  return directory === LATEST ? EC2_VERSIONS[EC2_VERSIONS.length - 1]! : directory;
}

export function resolveOpenstackVersion(directory: OpenstackVersionDirectory): OpenstackVersion {
  return directory === LATEST ? OPENSTACK_VERSIONS[OPENSTACK_VERSIONS.length - 1]! : directory;
}

/** _check_version: does `requested` include what `required` introduced? */
export function ec2VersionAtLeast(required: Ec2Version, requested: Ec2Version): boolean {
  return EC2_VERSIONS.indexOf(requested) >= EC2_VERSIONS.indexOf(required);
}

/** _check_os_version. */
export function openstackVersionAtLeast(required: OpenstackVersion, requested: OpenstackVersion): boolean {
  return OPENSTACK_VERSIONS.indexOf(requested) >= OPENSTACK_VERSIONS.indexOf(required);
}
