/**
 * The real Nova 26 control plane of scripts/control-plane (nova-api, nova-conductor, nova-scheduler, placement,
 * Glance, a Neutron stand-in) for tests that need Nova on the other side. Started once per machine and left
 * running for the next test file: a start from nothing takes about a minute here, a start of what is already
 * running two seconds. `scripts/control-plane stop` ends it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const SCRIPT = fileURLToPath(new URL('../../scripts/control-plane', import.meta.url));

/** What scripts/control-plane prints once every service answers. */
export interface ControlPlane {
  /** The vhost of its own on the machine's RabbitMQ, as nova.conf's [DEFAULT] transport_url writes it. */
  transport_url: string;
  vhost: string;
  /** nova-api, with the version in the path (http://127.0.0.1:8774/v2.1). */
  compute_url: string;
  placement_url: string;
  glance_url: string;
  neutron_url: string;
  /** noauth2's token for the admin user in the admin project (nova-api, placement); Glance checks none. */
  token: string;
  /** A qcow2 image in Glance, active. */
  image_id: string;
  nova_conf: string;
  log_dir: string;
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
 * the endpoint and noauth2's token are given) and returns its `-f json` output parsed.
 */
export async function openstack(plane: ControlPlane, service: keyof typeof CLI_ENDPOINTS, args: readonly string[]): Promise<unknown> {
  const { stdout } = await execFileAsync(
    '/usr/bin/openstack',
    ['--os-auth-type', 'admin_token', '--os-endpoint', CLI_ENDPOINTS[service](plane), '--os-token', plane.token, ...args, '-f', 'json'],
    { timeout: 60_000, env: { ...process.env, OS_CLOUD: '' } },
  );
  return JSON.parse(stdout) as unknown;
}

/** A GET as an admin of noauth2, answered with JSON. */
export async function getJson(url: string, plane: ControlPlane, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(url, { headers: { 'X-Auth-Token': plane.token, Accept: 'application/json', ...headers } });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as unknown;
}

/**
 * The nova.conf of a nova-spawnd compute host on this control plane: libvirt's test driver, heartbeats every
 * 2 s, placement with noauth2's admin token; `extra` sets options of a section (or adds the section).
 */
export function computeHostConfig(plane: ControlPlane, host: string, stateDir: string, extra: Record<string, Record<string, string>> = {}): string {
  const sections: Record<string, Record<string, string>> = {
    DEFAULT: { host, state_path: stateDir, transport_url: plane.transport_url, enabled_apis: 'osapi_compute', report_interval: '2' },
    libvirt: { virt_type: 'qemu', connection_uri: 'test:///default' },
    placement: { auth_type: 'admin_token', endpoint: plane.placement_url, token: plane.token },
    // Neutron as the user sees it (the request's catalog is empty under noauth2).
    neutron: { endpoint_override: plane.neutron_url },
  };
  for (const [section, options] of Object.entries(extra)) sections[section] = { ...sections[section], ...options };
  return Object.entries(sections)
    .map(([section, options]) => `[${section}]\n${Object.entries(options).map(([name, value]) => `${name} = ${value}\n`).join('')}`)
    .join('\n');
}
