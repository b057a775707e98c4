/**
 * schema/spawn-request.schema.json documents the plain request; src/nova/plain-request.ts is what the
 * daemon runs. Both judge the same requests here, the schema through Debian's python3-jsonschema
 * (Draft 2020-12, with format checks so ipv4/ipv6 are asserted).
 */
import { fileURLToPath } from 'node:url';
import { spawnRequestFromPlainRequest } from '../../src/nova/plain-request.js';
import { runPython } from '../metadata/python.js';
import { FULL, MINIMAL } from './nova-scenarios.js';
import { documentedExample, MINIMAL_PLAIN, toPlain } from './plain-requests.js';

const SCHEMA = fileURLToPath(new URL('../../schema/spawn-request.schema.json', import.meta.url));

const JSONSCHEMA = `
import json, sys
from jsonschema import Draft202012Validator
with open(sys.argv[1]) as schema_file:
    schema = json.load(schema_file)
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
print(json.dumps([[error.message for error in validator.iter_errors(request)][:1] for request in json.load(sys.stdin)]))
`;

const VIF = { id: 'v', address: 'fa:16:3e:00:00:01', type: 'ovs', network: { id: 'n' } };
const with_ = (change: Record<string, unknown>) => ({ ...MINIMAL_PLAIN, ...change });
const flavor = (change: Record<string, unknown>) => with_({ flavor: { ...MINIMAL_PLAIN.flavor, ...change } });
const subnet = (change: Record<string, unknown>) => with_({ network_info: [{ ...VIF, network: { id: 'n', subnets: [{ cidr: '10.0.0.0/24', ...change }] } }] });
const { nova_spawnd: _, ...UNVERSIONED } = MINIMAL_PLAIN;

const GOOD: [string, unknown][] = [
  ['the documented example', documentedExample()],
  ['only the required fields', MINIMAL_PLAIN],
  ["Nova's full cast in plain form", toPlain(FULL)],
  ["Nova's minimal cast in plain form", toPlain(MINIMAL)],
  ['format 1.0.0', with_({ nova_spawnd: '1.0.0' })],
  ['config_drive "yes"', with_({ config_drive: 'yes' })],
  ['config_drive ""', with_({ config_drive: '' })],
  ['config_drive null', with_({ config_drive: null })],
  ['a Latin-1 hostname', with_({ hostname: 'über-server' })],
  ['a one-letter hostname', with_({ hostname: 'x' })],
  ['launched_at with an offset', with_({ launched_at: '2024-05-01T14:00:00.5+02:00' })],
  ['user_data with line breaks', with_({ user_data: 'I2Nsb3Vk\nLWNvbmZp\nZwo=' })],
  ['user_data of 65535 characters', with_({ user_data: `${'A'.repeat(65532)}\n\n\n` })],
  ['an empty image', with_({ image: {} })],
  ['a disk device with only a type', with_({ device_metadata: [{ type: 'disk' }] })],
  ['a VIF with unknown keys (they go to meta)', with_({ network_info: [{ ...VIF, ovs_interfaceid: 'v', profile: {}, something_new: 1 }] })],
  ['a gateway that is {}', subnet({ gateway: {} })],
  ['a route without gateway', subnet({ routes: [{ cidr: '0.0.0.0/0', gateway: null }] })],
  ['null lists in a subnet', subnet({ ips: null, dns: null, routes: null })],
];

const BAD: [string, unknown][] = [
  ['no format version', UNVERSIONED],
  ['format 2.0', with_({ nova_spawnd: '2.0' })],
  ['format 1.1', with_({ nova_spawnd: '1.1' })],
  ['format a number', with_({ nova_spawnd: 1 })],
  ['an unknown field', with_({ display_name: 'x' })],
  ['no uuid', { ...MINIMAL_PLAIN, uuid: undefined }],
  ['a uuid in capitals', with_({ uuid: MINIMAL_PLAIN.uuid.toUpperCase() })],
  ['a uuid with a newline', with_({ uuid: `${MINIMAL_PLAIN.uuid}\n` })],
  ['no user', { ...MINIMAL_PLAIN, user_id: undefined }],
  ['name a number', with_({ name: 5 })],
  ['hostname with an underscore', with_({ hostname: 'a_b' })],
  ['hostname with a dot', with_({ hostname: 'a.b' })],
  ['hostname starting with -', with_({ hostname: '-a' })],
  ['hostname of 64 characters', with_({ hostname: 'a'.repeat(64) })],
  ['hostname with a newline', with_({ hostname: 'web\n' })],
  ['hostname with a letter beyond Latin-1', with_({ hostname: 'İstanbul' })],
  ['no flavor', { ...MINIMAL_PLAIN, flavor: undefined }],
  ['a flavor without flavorid', with_({ flavor: { name: 'f', vcpus: 1, memory_mb: 1 } })],
  ['0 MiB', flavor({ memory_mb: 0 })],
  ['-1 vcpus', flavor({ vcpus: -1 })],
  ['1.5 vcpus', flavor({ vcpus: 1.5 })],
  ['negative swap', flavor({ swap: -1 })],
  ['an unknown flavor field', flavor({ ram: 512 })],
  ['an extra spec that is a number', flavor({ extra_specs: { a: 1 } })],
  ['config_drive "maybe"', with_({ config_drive: 'maybe' })],
  ['config_drive 1', with_({ config_drive: 1 })],
  ['user_data over 65535 characters', with_({ user_data: 'A'.repeat(65536) })],
  ['user_data not ASCII', with_({ user_data: 'aGk=é' })],
  ['user_data a number', with_({ user_data: 1 })],
  ['a relative file path', with_({ files: [{ path: 'etc/motd', contents_base64: '' }] })],
  ['a file path with ..', with_({ files: [{ path: '/etc/../shadow', contents_base64: '' }] })],
  ['a file path ending in ..', with_({ files: [{ path: '/etc/..', contents_base64: '' }] })],
  ['a file path with NUL', with_({ files: [{ path: '/etc/\u0000', contents_base64: '' }] })],
  ['a directory as file path', with_({ files: [{ path: '/etc/', contents_base64: '' }] })],
  ['a file without contents', with_({ files: [{ path: '/etc/motd' }] })],
  ['file contents not ASCII', with_({ files: [{ path: '/etc/motd', contents_base64: '☃' }] })],
  ['a keypair of type rsa', with_({ keypairs: [{ name: 'k', type: 'rsa', public_key: 'x' }] })],
  ['a keypair without public key', with_({ keypairs: [{ name: 'k' }] })],
  ['meta with a number', with_({ meta: { a: 1 } })],
  ['launched_at in words', with_({ launched_at: 'yesterday' })],
  ['launched_at with a trailing newline', with_({ launched_at: '2024-05-01T12:00:00Z\n' })],
  ['launch_index a string', with_({ launch_index: '0' })],
  ['id a string', with_({ id: '1' })],
  ['image null', with_({ image: null })],
  ['an unknown image field', with_({ image: { status: 'active' } })],
  ['an image property that is a number', with_({ image: { properties: { hw_video_ram: 64 } } })],
  ['image size a string', with_({ image: { size: '1' } })],
  ['network_info an object', with_({ network_info: {} })],
  ['a VIF without network', with_({ network_info: [{ ...VIF, network: undefined }] })],
  ['a VIF with a null network', with_({ network_info: [{ ...VIF, network: null }] })],
  ['a VIF without type', with_({ network_info: [{ ...VIF, type: undefined }] })],
  ['a subnet without cidr', subnet({ cidr: undefined })],
  ['a fixed IP that is no IP', subnet({ ips: [{ address: '10.0.0.300' }] })],
  ['a DNS server by name', subnet({ dns: [{ address: 'ns.example' }] })],
  ['a floating IP without address', subnet({ ips: [{ address: '10.0.0.5', floating_ips: [{}] }] })],
  ['an IP version 5', subnet({ ips: [{ address: '10.0.0.5', version: 5 }] })],
  ['a device of type gpu', with_({ device_metadata: [{ type: 'gpu' }] })],
  ['a device on bus sata', with_({ device_metadata: [{ type: 'disk', bus: 'sata' }] })],
  ['a NIC without mac', with_({ device_metadata: [{ type: 'nic' }] })],
  ['a disk with a mac', with_({ device_metadata: [{ type: 'disk', mac: 'fa:16:3e:00:00:01' }] })],
  ['a negative dedicated CPU', with_({ dedicated_cpus: [-1] })],
  ['a security group that is an object', with_({ security_groups: [{ name: 'default' }] })],
  ['an unknown context field', with_({ context: { tenant: 'p' } })],
  ['context request_id a number', with_({ context: { request_id: 1 } })],
];

/** Rules JSON Schema cannot state (the schema's description lists them): the schema lets these pass. */
const DAEMON_ONLY: [string, unknown][] = [
  ['user_data with a missing padding', with_({ user_data: 'YWJjZA' })],
  ['file contents of one character', with_({ files: [{ path: '/etc/motd', contents_base64: 'a' }] })],
  ['a name with a lone surrogate', with_({ name: 'web \ud800' })],
  ['a subnet CIDR with prefix 33', subnet({ cidr: '10.0.0.0/33' })],
  ['an IP version that contradicts the address', subnet({ ips: [{ address: '10.0.0.5', version: 6 }] })],
  ['launched_at on the 45th of the 13th month', with_({ launched_at: '2024-13-45T00:00:00Z' })],
];

function daemonAccepts(request: unknown): boolean {
  try {
    spawnRequestFromPlainRequest(JSON.parse(JSON.stringify(request)));
    return true;
  } catch (error) {
    if ((error as Error).name !== 'InvalidComputeRequest') throw error;
    return false;
  }
}

test('the schema and the daemon accept and refuse the same requests', async () => {
  const cases = [...GOOD, ...BAD];
  const schemaErrors = JSON.parse(await runPython(['-c', JSONSCHEMA, SCHEMA], cases.map(([, request]) => request))) as string[][];
  const verdicts = cases.map(([name, request], index) => ({ name, schema: schemaErrors[index]!.length === 0, daemon: daemonAccepts(request) }));
  const expected = cases.map(([name], index) => ({ name, schema: index < GOOD.length, daemon: index < GOOD.length }));
  expect(verdicts).toEqual(expected);
});

test('what only the daemon checks: the schema passes it, the daemon refuses it', async () => {
  const schemaErrors = JSON.parse(await runPython(['-c', JSONSCHEMA, SCHEMA], DAEMON_ONLY.map(([, request]) => request))) as string[][];
  const verdicts = DAEMON_ONLY.map(([name, request], index) => ({ name, schema: schemaErrors[index]!.length === 0, daemon: daemonAccepts(request) }));
  expect(verdicts).toEqual(DAEMON_ONLY.map(([name]) => ({ name, schema: true, daemon: false })));
});
