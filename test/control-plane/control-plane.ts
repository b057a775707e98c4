/**
 * The real Nova 26 control plane of scripts/control-plane (nova-api, nova-conductor, nova-scheduler, placement,
 * Glance, neutron-server and the Linux bridge agent of one host) for tests that need Nova on the other side.
 * Started once per machine and left running for the next test file: a start from nothing takes about a minute
 * here, a start of what is already running two seconds. `scripts/control-plane stop` ends it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseIni } from '../../src/config/ini.js';
import { PACKAGE_ROOT } from '../../src/version.js';

const execFileAsync = promisify(execFile);

/** From the package root: the benchmarks run these helpers from dist/. */
const SCRIPT = join(PACKAGE_ROOT, 'scripts/control-plane');

/** What scripts/control-plane prints once every service answers. */
export interface ControlPlane {
  /** The vhost of its own on the machine's RabbitMQ, as nova.conf's [DEFAULT] transport_url writes it. */
  transport_url: string;
  vhost: string;
  /** nova-api, with the version in the path (http://127.0.0.1:8774/v2.1). */
  compute_url: string;
  placement_url: string;
  glance_url: string;
  /** neutron-server (noauth: every request is an admin's), without the version (http://127.0.0.1:9696). */
  neutron_url: string;
  /**
   * The [DEFAULT] host of the Linux bridge agent: the one host whose ports Neutron binds. A compute host under
   * test that needs bound ports takes this name, one at a time: claimAgentHost (network.ts).
   */
  agent_host: string;
  /** The file claimAgentHost locks. */
  agent_host_lock: string;
  /** The shared flat network, made at the control plane's start. */
  network: ControlPlaneNetwork;
  /** noauth2's token for the admin user in the admin project (nova-api, placement); Glance checks none. */
  token: string;
  /** A qcow2 image in Glance, active. */
  image_id: string;
  nova_conf: string;
  log_dir: string;
}

/** One flat network on a physical network of the agent, shared, with one IPv4 subnet without DHCP. */
export interface ControlPlaneNetwork {
  id: string;
  name: string;
  physical_network: string;
  mtu: number;
  subnet_id: string;
  cidr: string;
  /** Held by the machine (the other end of the physical network's veth pair): guests on the network reach it. */
  gateway_ip: string;
  dns_nameservers: string[];
}

/** Use as beforeAll(..., CONTROL_PLANE_START_MS): the first start installs packages and creates databases. */
export const CONTROL_PLANE_START_MS = 300_000;

export async function startControlPlane(): Promise<ControlPlane> {
  const { stdout } = await execFileAsync(SCRIPT, ['start'], { timeout: CONTROL_PLANE_START_MS });
  return JSON.parse(stdout) as ControlPlane;
}

/** The endpoint of each service the openstack CLI talks to, with the version its clients expect in the path. */
const CLI_ENDPOINTS = {
  compute: (plane: ControlPlane) => plane.compute_url,
  image: (plane: ControlPlane) => `${plane.glance_url}/v2`,
  placement: (plane: ControlPlane) => plane.placement_url,
} as const;

/**
 * Runs Debian's `openstack` command against one service with keystoneauth's admin_token plugin (no Keystone:
 * the endpoint and noauth2's token are given) and returns its `-f json` output parsed. A command naming a
 * network or a port (`server create --network N`) gets Neutron's endpoint from a clouds.yaml of the test
 * process (network_endpoint_override): the CLI looks them up there, and admin_token gives it no catalog. Only
 * then: a cloud from clouds.yaml changes how the CLI finds other things too (hypervisor show by name).
 */
export async function openstack(plane: ControlPlane, service: keyof typeof CLI_ENDPOINTS, args: readonly string[]): Promise<unknown> {
  const neutron = args.some((arg) => arg === '--network' || arg === '--port');
  const { stdout } = await execFileAsync(
    '/usr/bin/openstack',
    [...(neutron ? ['--os-cloud', 'plane'] : []), '--os-auth-type', 'admin_token', '--os-endpoint', CLI_ENDPOINTS[service](plane), '--os-token', plane.token, ...args, '-f', 'json'],
    { timeout: 60_000, env: { ...process.env, OS_CLOUD: '', ...(neutron ? { OS_CLIENT_CONFIG_FILE: cloudsYaml(plane) } : {}) } },
  );
  return JSON.parse(stdout) as unknown;
}

const cloudsFiles = new Map<string, string>();

/** A clouds.yaml naming the plane's Neutron, one per process and plane. */
function cloudsYaml(plane: ControlPlane): string {
  let file = cloudsFiles.get(plane.neutron_url);
  if (file === undefined) {
    file = join(mkdtempSync(join(tmpdir(), 'nova-spawnd-clouds-')), 'clouds.yaml');
    writeFileSync(file, `clouds:\n  plane:\n    network_endpoint_override: ${plane.neutron_url}/\n`);
    cloudsFiles.set(plane.neutron_url, file);
  }
  return file;
}

/** A GET as an admin of noauth2, answered with JSON. */
export async function getJson(url: string, plane: ControlPlane, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(url, { headers: { 'X-Auth-Token': plane.token, Accept: 'application/json', ...headers } });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as unknown;
}

type NovaConf = Record<string, Record<string, string>>;

/** nova.conf's text; `extra` sets options of a section (or adds the section). */
function renderNovaConf(sections: NovaConf, extra: NovaConf): string {
  const merged: NovaConf = { ...sections };
  for (const [section, options] of Object.entries(extra)) merged[section] = { ...merged[section], ...options };
  return Object.entries(merged)
    .map(([section, options]) => `[${section}]\n${Object.entries(options).map(([name, value]) => `${name} = ${value}\n`).join('')}`)
    .join('\n');
}

/**
 * The nova.conf of a nova-spawnd compute host on this control plane: libvirt's test driver, heartbeats every
 * 2 s, placement with noauth2's admin token; `extra` sets options of a section (or adds the section).
 */
export function computeHostConfig(plane: ControlPlane, host: string, stateDir: string, extra: NovaConf = {}): string {
  return renderNovaConf(
    {
      DEFAULT: { host, state_path: stateDir, transport_url: plane.transport_url, enabled_apis: 'osapi_compute', report_interval: '2' },
      libvirt: { virt_type: 'qemu', connection_uri: 'test:///default' },
      placement: { auth_type: 'admin_token', endpoint: plane.placement_url, token: plane.token },
      // Neutron as the service (admin_token: ports bound and released) and as the user (endpoint_override: the
      // request's catalog is empty under noauth2).
      neutron: { auth_type: 'admin_token', endpoint: plane.neutron_url, token: plane.token, endpoint_override: plane.neutron_url },
    },
    extra,
  );
}

/**
 * The nova.conf of Nova's own nova-compute on this control plane, with a virt driver of nova/virt/fake.py: the
 * control plane's [placement], [neutron] and [glance] as its nova.conf writes them (a compute calls Neutron
 * when it deletes a server), heartbeats every 2 s as computeHostConfig's, its own state and lock directories,
 * its log on stderr as the daemon's (oslo.log writes to stdout when it has no log file).
 */
export function novaComputeConfig(plane: ControlPlane, host: string, stateDir: string, driver: string, extra: NovaConf = {}): string {
  const controlPlane = parseIni(readFileSync(plane.nova_conf, 'utf8'), plane.nova_conf);
  const section = (name: string): Record<string, string> =>
    Object.fromEntries([...(controlPlane.get(name) ?? [])].map(([option, assignments]) => [option, assignments.at(-1)!.value]));
  return renderNovaConf(
    {
      DEFAULT: { host, state_path: stateDir, transport_url: plane.transport_url, compute_driver: driver, my_ip: '127.0.0.1', report_interval: '2', use_stderr: 'true' },
      placement: section('placement'),
      neutron: section('neutron'),
      glance: section('glance'),
      oslo_concurrency: { lock_path: join(stateDir, 'lock') },
    },
    extra,
  );
}
