/**
 * A nova-spawnd compute host on the control plane of scripts/control-plane, for tests that build servers on it:
 * the daemon (`nova-spawnd run`), `openstack server create --host` to it, and the end of its servers: retire()
 * deletes them through Nova while the daemon runs (terminate_instance cast to it), else, its daemon stopped or
 * crashed, by nova-api alone once the service is down; then the service record.
 * The same host can run Nova's own nova-compute instead (NOVA_COMPUTE), the reference the benchmarks measure
 * the daemon against.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { eventually } from '../bus/helpers/rabbit.js';
import { cli } from '../cli/run-cli.js';
import { getJson, openstack, type ControlPlane } from './control-plane.js';

const execFileAsync = promisify(execFile);

/** --host: the scheduler places the server on our host (microversion 2.74), through placement as usual. */
export const COMPUTE_API = ['--os-compute-api-version', '2.74'] as const;

/** `openstack server show -f json`. */
export type Server = Record<string, unknown> & { status: string };

/** `openstack server create -f json`: adminPass is the password nova-api made when the request had none. */
export type CreatedServer = Record<string, unknown> & { id: string; adminPass?: string };

export interface ListedService {
  ID: string;
  Binary: string;
  State: string;
}

/** What a compute host runs: the command for its nova.conf, and the log text that says it has registered. */
export interface ComputeProgram {
  command: string;
  args(configFile: string): string[];
  registered: string;
}

export const NOVA_SPAWND: ComputeProgram = {
  command: process.execPath,
  args: (configFile) => [cli, 'run', '--config-file', configFile],
  registered: 'registered with the control plane',
};

/**
 * Debian's nova-compute (python3-nova, the control plane's Nova), for a nova.conf of novaComputeConfig. Its
 * console scripts are not packaged and nova.cmd.compute has no __main__ guard: main() is called.
 */
export const NOVA_COMPUTE: ComputeProgram = {
  command: '/usr/bin/python3',
  args: (configFile) => ['-c', 'import sys; from nova.cmd.compute import main; sys.exit(main())', '--config-file', configFile],
  // nova.service logs it once its Service record exists; the ComputeNode follows.
  registered: 'Starting compute node',
};

export class ComputeHost {
  /** Every server created on this host, deleted by retire(). */
  readonly servers: string[] = [];
  /** The daemon's log (stderr), across restarts. */
  stderr = '';
  private daemon: ChildProcess | null = null;

  constructor(
    readonly plane: ControlPlane,
    readonly name: string,
    private readonly configFile: string,
    private readonly program: ComputeProgram = NOVA_SPAWND,
  ) {}

  /** Starts the daemon (or nova-compute) and waits until it has registered its service. */
  async start(): Promise<void> {
    const from = this.stderr.length;
    // stdout unread: a child that wrote there would block once the pipe is full.
    const daemon = spawn(this.program.command, this.program.args(this.configFile), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    this.daemon = daemon;
    daemon.stderr!.on('data', (chunk: Buffer) => void (this.stderr += chunk.toString()));
    await eventually('registered', () => {
      if (daemon.exitCode !== null) throw new Error(`${this.name} exited with ${daemon.exitCode}: ${this.stderr.slice(from).slice(-2000)}`);
      return this.stderr.slice(from).includes(this.program.registered) ? true : undefined;
    }, 60_000);
  }

  /** The daemon was started and has not exited (a paused one counts). */
  get running(): boolean {
    return this.daemon !== null && this.daemon.exitCode === null && this.daemon.signalCode === null;
  }

  /** SIGTERM (a paused daemon resumed first), and the daemon's exit code (null when a signal ended it). */
  async stop(): Promise<number | null> {
    const child = this.daemon;
    this.daemon = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const [code] = await exited;
    return code;
  }

  /**
   * SIGSTOP: the daemon reads nothing until resume(), while the broker keeps delivering casts to it (they wait
   * unread in its socket) and its service stays up for service_down_time (20 s) after its last heartbeat:
   * what is sent meanwhile arrives together.
   */
  pause(): void {
    if (!this.running) throw new Error(`the daemon of ${this.name} is not running`);
    this.daemon!.kill('SIGSTOP');
  }

  resume(): void {
    if (!this.running) throw new Error(`the daemon of ${this.name} is not running`);
    this.daemon!.kill('SIGCONT');
  }

  /**
   * The scheduler maps new hosts into cell1 every 2 s; --host is refused until then, and nova-api lists a
   * hypervisor only once its host is mapped. Found by its service's host: on a real libvirt the node is named
   * by libvirt's hostname (the machine's), as Nova's libvirt driver names it, not by [DEFAULT] host.
   */
  async waitUntilListed(): Promise<void> {
    await eventually('the hypervisor listed', async () => {
      const { hypervisors } = (await getJson(`${this.plane.compute_url}/os-hypervisors/detail`, this.plane, { 'OpenStack-API-Version': 'compute 2.53' })) as {
        hypervisors: { state: string; service: { host: string } }[];
      };
      return hypervisors.some((hypervisor) => hypervisor.service.host === this.name && hypervisor.state === 'up') ? true : undefined;
    }, 60_000, 1_000);
  }

  /** `openstack server create --nic none --host <this host> ...args name`: the new server's id. */
  async createServer(name: string, args: readonly string[]): Promise<string> {
    return (await this.create(name, args)).id;
  }

  /**
   * createServer(), answered with what the CLI printed: nova-api's POST response (adminPass) and the server.
   * Without a NIC (--nic none) unless `args` ask for one (--network, --port, --nic).
   */
  async create(name: string, args: readonly string[]): Promise<CreatedServer> {
    const nics = args.some((arg) => ['--network', '--port', '--nic'].includes(arg)) ? [] : ['--nic', 'none'];
    const created = (await openstack(this.plane, 'compute', [...COMPUTE_API, 'server', 'create', ...nics, '--host', this.name, ...args, name])) as CreatedServer;
    this.servers.push(created.id);
    return created;
  }

  async listedService(): Promise<ListedService | undefined> {
    const services = (await openstack(this.plane, 'compute', ['--os-compute-api-version', '2.53', 'compute', 'service', 'list', '--host', this.name])) as ListedService[];
    return services.find((service) => service.Binary === 'nova-compute');
  }

  /**
   * Deletes the host's servers and then its service record, with which Nova deletes the compute node and the
   * resource provider. While the daemon runs and its service is up, each delete is Nova's: nova-api casts
   * terminate_instance to the daemon, which destroys the domain and the instance's files. A daemon that is not
   * running (stopped, crashed), or servers still there after a minute, are left to nova-api: it deletes a
   * server itself once the host's service is down (service_down_time is 20 s here); what libvirt then still
   * holds of them is the caller's to remove.
   */
  async retire(): Promise<void> {
    let left = [...this.servers];
    if (left.length > 0 && this.running && (await this.listedService())?.State === 'up') {
      left = await deleteServers(this.plane, left, 60_000);
      if (left.length > 0) console.warn(`retire ${this.name}: servers ${left.join(', ')} not deleted through the daemon; leaving them to nova-api`);
    }
    await this.stop();
    if (left.length > 0) {
      await eventually('the service down', async () => ((await this.listedService())?.State === 'down' ? true : undefined), 60_000, 1_000);
      left = await deleteServers(this.plane, left, 60_000);
      if (left.length > 0) throw new Error(`retire ${this.name}: servers ${left.join(', ')} not deleted`);
    }
    const service = await this.listedService();
    if (service) await this.removeService(service);
  }

  /**
   * DELETE os-services/{id}, asked again while nova-api answers HTTP 500. Not always enough: a
   * delete that failed after it deleted the resource provider leaves a record nova-api then refuses to delete
   * (ValueError: No such provider); that is only warned about.
   */
  private async removeService(service: ListedService): Promise<void> {
    const url = `${this.plane.compute_url}/os-services/${service.ID}`;
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (await remove(this.plane, url, { 'OpenStack-API-Version': 'compute 2.53' })) return;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    console.warn(`retire ${this.name}: its service record ${service.ID} is left behind`);
  }
}

/** Deletes the servers through nova-api and waits until they are gone: those still there at the deadline. */
export async function deleteServers(plane: ControlPlane, ids: readonly string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let left = [...ids];
  const asked = new Set<string>();
  for (;;) {
    for (const id of left) if (!asked.has(id) && (await remove(plane, `${plane.compute_url}/servers/${id}`))) asked.add(id);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const gone = await Promise.all(left.map((id) => serverGone(plane, id)));
    left = left.filter((_, index) => !gone[index]);
    if (left.length === 0 || Date.now() > deadline) return left;
  }
}

/** The server once it is ACTIVE or ERROR. */
export async function settled(plane: ControlPlane, id: string): Promise<Server> {
  return eventually(`server ${id} ACTIVE or ERROR`, async () => {
    const server = (await openstack(plane, 'compute', [...COMPUTE_API, 'server', 'show', id])) as Server;
    return server.status === 'ACTIVE' || server.status === 'ERROR' ? server : undefined;
  }, 120_000, 1_000);
}

async function serverGone(plane: ControlPlane, id: string): Promise<boolean> {
  const response = await fetch(`${plane.compute_url}/servers/${id}`, { headers: { 'X-Auth-Token': plane.token } });
  // Read to its end: an unread body keeps its connection, and a process that polls keeps running on it.
  await response.arrayBuffer();
  return response.status === 404;
}

/**
 * A DELETE as an admin of noauth2 (the openstack() helper asks every command for JSON, which delete has none
 * of): false, with a warning, when it was refused (404 counts as done).
 */
export async function remove(plane: ControlPlane, url: string, headers: Record<string, string> = {}): Promise<boolean> {
  const response = await fetch(url, { method: 'DELETE', headers: { 'X-Auth-Token': plane.token, ...headers } });
  if (response.ok || response.status === 404) return true;
  console.warn(`DELETE ${url}: HTTP ${response.status} ${await response.text()}`);
  return false;
}

/** cell1's database of the control plane, as SQLAlchemy connects to it: the [database] connection of nova.conf. */
export function cellDatabaseUrl(plane: ControlPlane): string {
  return /^\[database\]\nconnection = (\S+)$/m.exec(readFileSync(plane.nova_conf, 'utf8'))![1]!;
}

/** What cell1's database holds: read-only queries, `%s` for each parameter. */
export async function novaDb(plane: ControlPlane, sql: string, ...params: string[]): Promise<unknown[][]> {
  const { stdout } = await execFileAsync('/usr/bin/python3', [
    '-c',
    'import json, sys, sqlalchemy\nwith sqlalchemy.create_engine(sys.argv[1]).connect() as c: print(json.dumps([list(row) for row in c.exec_driver_sql(sys.argv[2], tuple(sys.argv[3:]))]))',
    cellDatabaseUrl(plane),
    sql,
    ...params,
  ]);
  return JSON.parse(stdout) as unknown[][];
}

/** Nova's EC2 id of an instance (EC2InstanceMapping: cell1's instance_id_mappings), as on its drive. */
export async function ec2InstanceId(plane: ControlPlane, uuid: string): Promise<string> {
  return ec2Id('i', await novaDb(plane, 'select id from instance_id_mappings where uuid = %s and deleted = 0', uuid));
}

/** Nova's EC2 id of an image (S3ImageMapping: cell1's s3_images): ami-, aki- or ari- by what the image is to the instance. */
export async function ec2ImageId(plane: ControlPlane, prefix: 'ami' | 'aki' | 'ari', uuid: string): Promise<string> {
  return ec2Id(prefix, await novaDb(plane, 'select id from s3_images where uuid = %s and deleted = 0', uuid));
}

function ec2Id(prefix: string, rows: unknown[][]): string {
  const [[number]] = rows as [[number]];
  return `${prefix}-${number.toString(16).padStart(8, '0')}`;
}
