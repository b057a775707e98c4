/**
 * `server create` to ACTIVE on the real Nova 26 control plane of scripts/control-plane: nova-spawnd (libvirt's
 * test:///default) against Nova's own nova-compute with its fake driver, both compute hosts of the same control
 * plane in the same run, each server pinned to its host (host, microversion 2.74). One at a time (the hosts
 * alternating, so the machine's load falls on both alike) and 20 at once (throughput: from the POST to the last
 * ACTIVE). Timed from the POST /servers to the moment cell1's database holds the server ACTIVE (vm_state
 * active, committed: what nova-api answers anyone from then on), read every 10 ms (DatabaseWatch: one query of
 * the instances table, well under a millisecond, nothing asked of nova-api). nova-api is asked too, every 100
 * ms, as a user would (for one server GET /servers/{id}, for 20 one listing by reservation id): its answers
 * settle a batch and tell what a server is when it is not ACTIVE, and the breakdown shows when they first said
 * ACTIVE. Timed by that poll instead, each server's time had 0 to 100 ms of interval and 50 to 250 ms of
 * request of the poll's own added, for both hosts alike, which only pulled the ratios toward 1 (2026-12-02:
 * the same build chain gave p50 ratios of 0.60 and 0.78 in two runs, by where its end fell in the interval).
 *
 * The 20 are one POST (min_count = max_count = 20, as `openstack server create --min 20 --max 20`): one
 * schedule_and_build_instances for them all (20 POSTs at once lost servers to sqlite's "database is locked" in
 * 2 runs of 3 when the control plane ran on sqlite). Servers the control plane loses before a compute saw them
 * get their batch run again (measure()); those lost after are the compute's, told apart from the figures.
 *
 * nova-compute runs FakeDriver: 1000 VCPU, 800 GB of RAM and 600 TB of disk, so placement never refuses a
 * server and the row measures the build, not capacity (SmallFakeDriver's 2 VCPU, 32 at the default ratio of
 * 16, would hold the 20 at once but not every server of a run). Its spawn does nothing: nova-compute's time is
 * the compute manager's (claims, conductor saves, placement), the daemon's that and a real spawn on
 * test:///default (qcow2 overlay, domain XML, define, start, syncs).
 *
 * Both log at debug: the per-step figures come from their logs (the daemon's lines by instance, nova-compute's
 * milestones of _do_build_and_run_instance).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { cellDatabaseUrl, ComputeHost, NOVA_COMPUTE, remove, type ComputeProgram } from '../test/control-plane/compute-host.js';
import { computeHostConfig, novaComputeConfig, openstack, startControlPlane, type ControlPlane } from '../test/control-plane/control-plane.js';
import { median, percentile } from './stats.js';
import { instanceMark, isAbout, logTime } from '../test/helpers/log-lines.js';

/** --host needs 2.74. */
const COMPUTE_API = { 'OpenStack-API-Version': 'compute 2.74' };
const POLL_MS = 100;
/** DatabaseWatch's query interval. */
const DATABASE_POLL_MS = 10;
const CONCURRENT = 20;
/** A batch ends when every server is ACTIVE, or when none has gone ACTIVE for this long: the rest are lost. */
const STALL_MS = 30_000;
/** Between batches: the builds' tail (ComputeNode updates, events finished) ends before the next batch. */
const SETTLE_MS = 3_000;
/** Runs of a batch whose servers the control plane lost before their compute saw them (see measure()). */
const BATCH_RUNS = 3;

interface Host {
  /** In its host name and its servers' names. */
  key: string;
  label: string;
  compute: ComputeHost;
  /** The compute's log: the first line of a build and the line that says its instance is ACTIVE in Nova. */
  log: LogFormat;
}

/** One server's build, in wall-clock milliseconds (Date.now(), as both logs' clocks and DatabaseWatch's). */
interface Timed {
  id: string;
  postedAt: number;
  /** cell1's database held it ACTIVE. */
  activeAt: number;
  /** nova-api's answer to the poll first said ACTIVE. */
  seenAt: number;
}

interface Batch {
  host: Host;
  /** The servers that went ACTIVE. */
  servers: Timed[];
  /** Those that did not: ERROR, or still BUILD when the batch stalled. */
  lost: Lost[];
}

interface Lost {
  id: string;
  /** Its status, and its fault or task state. */
  why: string;
}

async function novaApi(plane: ControlPlane, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${plane.compute_url}${path}`, {
    method,
    headers: { 'X-Auth-Token': plane.token, Accept: 'application/json', 'Content-Type': 'application/json', ...COMPUTE_API },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as unknown;
}

/**
 * One POST /servers of `count` servers to `host` (min_count = max_count: Nova's multi-create, one
 * schedule_and_build_instances for them all), resolved when every one is ACTIVE or lost.
 */
async function batch(plane: ControlPlane, database: DatabaseWatch, host: Host, flavorId: string, name: string, count: number): Promise<Batch> {
  const postedAt = Date.now();
  const posted = (await novaApi(plane, 'POST', '/servers', {
    server: { name, imageRef: plane.image_id, flavorRef: flavorId, networks: 'none', host: host.compute.name, min_count: count, max_count: count, return_reservation_id: count > 1 },
  })) as { reservation_id: string } | { server: { id: string } };
  const watched: [kind: 'uuid' | 'reservation_id', value: string] = 'server' in posted ? ['uuid', posted.server.id] : ['reservation_id', posted.reservation_id];
  database.watch(...watched);
  const watch = async (): Promise<ListedServer[]> =>
    'server' in posted
      ? [((await novaApi(plane, 'GET', `/servers/${posted.server.id}`)) as { server: ListedServer }).server]
      : ((await novaApi(plane, 'GET', `/servers/detail?reservation_id=${posted.reservation_id}`)) as { servers: ListedServer[] }).servers;
  const active = new Map<string, number>();
  let progressAt = postedAt;
  for (;;) {
    const servers = await watch();
    const seenAt = Date.now();
    for (const server of servers) {
      if (!host.compute.servers.includes(server.id)) host.compute.servers.push(server.id);
      if (server.status === 'ACTIVE' && !active.has(server.id)) active.set(server.id, (progressAt = seenAt));
    }
    // The database is read every 10 ms, nova-api every 100: it has said ACTIVE by the time nova-api does.
    const settled = servers.length === count && servers.every((server) => (server.status === 'ACTIVE' && database.activeAt(server.id) !== undefined) || server.status === 'ERROR');
    if (settled || seenAt - progressAt > STALL_MS) {
      database.forget(...watched);
      const lost = servers.filter((server) => !active.has(server.id) || database.activeAt(server.id) === undefined);
      const built = [...active].filter(([id]) => database.activeAt(id) !== undefined);
      return { host, servers: built.map(([id, seen]) => ({ id, postedAt, activeAt: database.activeAt(id)!, seenAt: seen })), lost: lost.map((server) => ({ id: server.id, why: lostBecause(server) })) };
    }
    await sleep(POLL_MS);
  }
}

/**
 * When cell1's database first holds each watched server ACTIVE or ERROR: one Python process (Nova's own
 * SQLAlchemy and pymysql), one connection in autocommit (else MariaDB's repeatable read would show it one
 * snapshot for ever), one query every DATABASE_POLL_MS for the servers watched by uuid or reservation id.
 */
class DatabaseWatch {
  private readonly settled = new Map<string, { vmState: string; at: number }>();
  /** Why the watch cannot go on (its process gone, its pipe broken): every later call throws it. */
  private failure: Error | null = null;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const { uuid, vm_state: vmState, at } = JSON.parse(line) as { uuid: string; vm_state: string; at: number };
      this.settled.set(uuid, { vmState, at });
    });
    child.on('exit', (code, signal) => (this.failure ??= new Error(`the database watch exited (${signal ?? code})`)));
    child.on('error', (error) => (this.failure ??= error));
    child.stdin!.on('error', (error) => (this.failure ??= error));
  }

  static async start(plane: ControlPlane): Promise<DatabaseWatch> {
    const child = spawn('/usr/bin/python3', ['-c', DATABASE_WATCH, cellDatabaseUrl(plane), String(DATABASE_POLL_MS / 1000)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const watch = new DatabaseWatch(child);
    // One query answered: the connection is up.
    watch.watch('uuid', 'none');
    const up = new Promise<void>((resolve, reject) => {
      child.once('exit', () => reject(watch.failure));
      child.stdout!.once('data', () => resolve());
    });
    await Promise.race([up, sleep(30_000).then(() => Promise.reject(new Error('the database watch made no query in 30 s')))]).catch((error: unknown) => {
      child.kill();
      throw error;
    });
    return watch;
  }

  watch(kind: 'uuid' | 'reservation_id', value: string): void {
    this.check();
    this.child.stdin!.write(`+ ${kind} ${value}\n`);
  }

  /** No longer asked for (the batch settled): the query stays as small as one batch. */
  forget(kind: 'uuid' | 'reservation_id', value: string): void {
    this.check();
    this.child.stdin!.write(`- ${kind} ${value}\n`);
  }

  activeAt(uuid: string): number | undefined {
    this.check();
    const found = this.settled.get(uuid);
    return found?.vmState === 'active' ? found.at : undefined;
  }

  close(): void {
    this.failure ??= new Error('the database watch is closed');
    this.child.stdin!.end();
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }
}

/** DatabaseWatch's side: a line per server when it is first seen ACTIVE or ERROR (and one after the first query). */
const DATABASE_WATCH = `
import json, os, select, sys, time, sqlalchemy
engine = sqlalchemy.create_engine(sys.argv[1], isolation_level='AUTOCOMMIT')
interval = float(sys.argv[2])
watched = {'uuid': set(), 'reservation_id': set()}
told = set()
first = True
pending = b''
with engine.connect() as connection:
    while True:
        if select.select([0], [], [], interval)[0]:
            chunk = os.read(0, 65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b'\\n')
            for line in lines:
                change, kind, value = line.decode().split()
                if change == '+':
                    watched[kind].add(value)
                else:
                    watched[kind].discard(value)
        kinds = [kind for kind in watched if watched[kind]]
        if not kinds:
            continue
        where = ' OR '.join('%s IN (%s)' % (kind, ', '.join(['%s'] * len(watched[kind]))) for kind in kinds)
        rows = connection.exec_driver_sql(
            "SELECT uuid, vm_state FROM instances WHERE deleted = 0 AND vm_state IN ('active', 'error') AND (" + where + ")",
            tuple(value for kind in kinds for value in sorted(watched[kind]))).fetchall()
        at = round(time.time() * 1000)
        for uuid, vm_state in rows:
            if uuid not in told:
                told.add(uuid)
                print(json.dumps({'uuid': uuid, 'vm_state': vm_state, 'at': at}), flush=True)
        if first:
            first = False
            print(json.dumps({'uuid': '', 'vm_state': 'ready', 'at': at}), flush=True)
`;

interface ListedServer {
  id: string;
  status: string;
  'OS-EXT-STS:task_state': string | null;
  fault?: { message: string };
}

function lostBecause(server: ListedServer): string {
  return `${server.status}${server.fault ? ` (${server.fault.message})` : ` (task_state ${server['OS-EXT-STS:task_state']})`}`;
}

/**
 * batch(), run again (BATCH_RUNS in all) while the control plane loses servers before their compute has a line
 * of them in its log (a conductor that fails in schedule_and_build_instances leaves the rest of the batch in
 * BUILD, scheduling). Such a batch says nothing of either compute. A server lost after its compute saw it is the compute's, and stays in the figures.
 */
async function measure(plane: ControlPlane, database: DatabaseWatch, host: Host, flavorId: string, name: string, count: number, discarded: Batch[]): Promise<Batch> {
  for (let run = 1; ; run++) {
    const result = await batch(plane, database, host, flavorId, `${name}-${run}`, count);
    const lines = result.lost.length > 0 ? host.compute.stderr.split('\n') : [];
    const unseen = result.lost.filter((server) => host.log.marks(lines, server.id).length === 0);
    if (unseen.length === 0 || run === BATCH_RUNS) return result;
    discarded.push(result);
  }
}

// ---- the computes' logs -------------------------------------------------------------------------------------

/** One line of a compute's log about an instance: when, and which step of the build it marks. */
interface Mark {
  at: number;
  step: string;
}

interface LogFormat {
  /** The marks of one instance's build, in log order. */
  marks(lines: readonly string[], id: string): Mark[];
  /** The step at which the instance is ACTIVE in Nova's database (its last save returned). */
  activeStep: RegExp;
  /** A line that says a build attempt failed and will be tried again. */
  retried: RegExp | null;
}

/**
 * nova-spawnd (oslo.log's format too): `<local time> <pid> <LEVEL> <logger> [<context>] [instance: <uuid>] <message>
 * key=value... [<DEBUG's caller>]`, every line of a build naming its instance.
 */
const NOVA_SPAWND_LOG: LogFormat = {
  marks: (lines, id) =>
    lines
      .filter((line) => isAbout(line, id))
      .map((line) => {
        const text = line.slice(line.indexOf(instanceMark(id)) + instanceMark(id).length);
        const message = text.split(/ [a-z_]+=/)[0]!.replace(/ \S+ \/\S+:\d+$/, '');
        const changes = / changes=(\S+)/.exec(line)?.[1];
        return { at: logTime(line), step: changes ? `${message} [${changes}]` : message };
      }),
  activeStep: /^instance saved \[power_state,/,
  retried: / build attempt failed/,
};

/** nova-compute (oslo.log): `<local time> <pid> <LEVEL> <logger> [<context>] [instance: <uuid>] <message>`; its build's milestones. */
const NOVA_COMPUTE_MILESTONES: readonly [RegExp, string][] = [
  [/Lock "[0-9a-f-]{36}" acquired by .*_locked_do_build_and_run_instance/, 'build_and_run_instance: the instance lock taken'],
  [/Starting instance\.\.\./, 'Starting instance... (event_start)'],
  [/Claim successful on node/, 'Claim successful (Instance.save [building], GET /allocations, the claim)'],
  [/Start building networks asynchronously/, 'Start building networks (Instance.save [host, node], ComputeNode.save, placement)'],
  [/Start building block device mappings/, 'Start building block device mappings (Instance.save [networking], root device named)'],
  [/Start spawning the instance on the hypervisor/, 'Start spawning (Instance.save [block_device_mapping], Instance.save [spawning])'],
  [/Took [\d.]+ seconds to spawn the instance/, 'Took x seconds to spawn (the fake driver)'],
  [/Took [\d.]+ seconds to build instance/, 'Took x seconds to build instance (Instance.save [active], scheduler told)'],
];

const NOVA_COMPUTE_LOG: LogFormat = {
  marks: (lines, id) => {
    const marks: Mark[] = [];
    for (const line of lines) {
      if (!line.includes(id)) continue;
      const milestone = NOVA_COMPUTE_MILESTONES.find(([pattern]) => pattern.test(line));
      if (milestone) marks.push({ at: logTime(line), step: milestone[1] });
    }
    return marks;
  },
  activeStep: /^Took x seconds to build instance/,
  // A failed build is rescheduled, and with the host pinned there is nowhere else: it is lost instead.
  retried: null,
};

/** Per step, the median of its time since the step before, over the builds whose marks follow the usual order. */
function stepMedians(host: Host, lines: readonly string[], servers: readonly Timed[]): { step: string; ms: number }[] {
  const timelines = servers.map((server) => host.log.marks(lines, server.id));
  const order = (marks: Mark[]): string => marks.map((mark) => mark.step).join('\n');
  const counts = new Map<string, number>();
  for (const marks of timelines) counts.set(order(marks), (counts.get(order(marks)) ?? 0) + 1);
  const usual = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const alike = timelines.filter((marks) => order(marks) === usual && marks.length > 0);
  if (alike.length === 0) return [];
  return alike[0]!.map((mark, i) => ({ step: mark.step, ms: i === 0 ? 0 : median(alike.map((marks) => marks[i]!.at - marks[i - 1]!.at)) }));
}

/**
 * Where a build's time goes, end to end: before the compute, in it, then when the database held it ACTIVE and
 * when nova-api's answer said so, each after the compute's line of its ACTIVE save.
 */
function phases(host: Host, lines: readonly string[], servers: readonly Timed[]): { before: number; compute: number; database: number; seen: number } {
  const spans = servers.flatMap((server) => {
    const marks = host.log.marks(lines, server.id);
    const active = marks.find((mark) => host.log.activeStep.test(mark.step));
    return marks.length > 0 && active
      ? [{ before: marks[0]!.at - server.postedAt, compute: active.at - marks[0]!.at, database: server.activeAt - active.at, seen: server.seenAt - active.at }]
      : [];
  });
  const of = (key: 'before' | 'compute' | 'database' | 'seen') => (spans.length === 0 ? NaN : median(spans.map((span) => span[key])));
  return { before: of('before'), compute: of('compute'), database: of('database'), seen: of('seen') };
}

// ---- the report ---------------------------------------------------------------------------------------------

interface Mode {
  name: string;
  concurrent: boolean;
  batches: Batch[];
}

interface Figures {
  servers: number;
  lost: number;
  p50: number;
  p99: number;
  perMinute: number;
}

function figures(mode: Mode, host: Host): Figures {
  const batches = mode.batches.filter((b) => b.host === host && b.servers.length > 0);
  const latencies = batches.flatMap((b) => b.servers.map((s) => s.activeAt - s.postedAt));
  // One at a time: servers per minute of building. At once: per minute from a batch's POST to its last ACTIVE.
  const busyMs = mode.concurrent
    ? batches.reduce((sum, b) => sum + Math.max(...b.servers.map((s) => s.activeAt)) - Math.min(...b.servers.map((s) => s.postedAt)), 0)
    : latencies.reduce((sum, ms) => sum + ms, 0);
  const lost = mode.batches.filter((b) => b.host === host).reduce((n, b) => n + b.lost.length, 0);
  return { servers: latencies.length, lost, p50: median(latencies), p99: percentile(latencies, 99), perMinute: (latencies.length * 60_000) / busyMs };
}

const built = (mode: Mode, host: Host): Timed[] => mode.batches.filter((b) => b.host === host).flatMap((b) => b.servers);

/** The table per mode and host with the ratios and targets, then what is not in it: first builds, lost servers, retries. */
function summary(hosts: readonly [Host, Host], first: readonly Batch[], modes: readonly Mode[], discarded: readonly Batch[], logs: Map<Host, string[]>): string {
  const [ours, reference] = hosts;
  const lines = [
    `### \`server create\` to ACTIVE on a Nova 26 control plane: ${ours.label} vs ${reference.label}`,
    '',
    '| mode | host | servers | p50 ms | p99 ms | servers/min | p50 ratio | throughput ratio |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  const verdicts: string[] = [];
  for (const mode of modes) {
    const [mine, theirs] = [figures(mode, ours), figures(mode, reference)];
    const row = (host: Host, f: Figures, ratios: string) =>
      `| ${mode.name} | ${host.label} | ${f.servers}${f.lost > 0 ? ` (+${f.lost} lost)` : ''} | ${f.p50.toFixed(0)} | ${f.p99.toFixed(0)} | ${f.perMinute.toFixed(1)} | ${ratios} |`;
    const p50Ratio = mine.p50 / theirs.p50;
    const throughputRatio = mine.perMinute / theirs.perMinute;
    lines.push(row(reference, theirs, ' | '), row(ours, mine, `${p50Ratio.toFixed(2)} | ${throughputRatio.toFixed(2)}x`));
    verdicts.push(
      mode.concurrent
        ? `throughput ${mode.name} at least 2x nova-compute's: ${throughputRatio.toFixed(2)}x, ${throughputRatio >= 2 ? 'met' : 'not met'}`
        : `p50 ${mode.name} at most 0.7 of nova-compute's: ${p50Ratio.toFixed(2)}, ${p50Ratio <= 0.7 ? 'met' : 'not met'}`,
    );
  }
  lines.push('', `Targets: ${verdicts.join('; ')}.`);
  const firstMs = (b: Batch) => (b.servers[0] ? `${b.servers[0].activeAt - b.servers[0].postedAt} ms` : 'lost');
  lines.push('', `First build on each host, not in the table (the daemon downloads the image from Glance then): ${first.map((b) => `${b.host.label} ${firstMs(b)}`).join(', ')}.`);
  const lost = [first, ...modes.map((mode) => mode.batches)].flat().flatMap((b) => b.lost.map((server) => `${b.host.label}: ${server.id} ${server.why}`));
  if (lost.length > 0) lines.push('', `Lost, not in the figures: ${lost.join('; ')}.`);
  if (discarded.length > 0) {
    const told = discarded.map((b) => `${b.host.label}, ${b.lost.length} of ${b.lost.length + b.servers.length} lost`);
    lines.push('', `Run again, the control plane having lost servers before their compute saw them: ${told.join('; ')}.`);
  }
  for (const host of hosts) {
    const retried = host.log.retried ? logs.get(host)!.filter((line) => host.log.retried!.test(line)).length : 0;
    if (retried > 0) lines.push('', `${host.label} retried ${retried} build attempt(s) that the conductor failed (in the figures).`);
  }
  return lines.join('\n');
}

/** Where the time goes, from the computes' logs: before, in and after the compute, and the steps of one build. */
function breakdown(hosts: readonly Host[], modes: readonly Mode[], logs: Map<Host, string[]>): string {
  const lines = [
    '#### Where a build goes (medians, ms)',
    '',
    '| mode | host | POST to the compute | in the compute, to ACTIVE saved | then ACTIVE in the database | then in nova-api\'s answer (poll) |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const mode of modes) {
    for (const host of hosts) {
      const p = phases(host, logs.get(host)!, built(mode, host));
      lines.push(`| ${mode.name} | ${host.label} | ${p.before.toFixed(0)} | ${p.compute.toFixed(0)} | ${p.database.toFixed(0)} | ${p.seen.toFixed(0)} |`);
    }
  }
  const oneAtATime = modes.find((mode) => !mode.concurrent)!;
  const samples = (host: Host) => built(oneAtATime, host).map((s) => s.activeAt - s.postedAt).sort((a, b) => a - b).join(', ');
  lines.push('', `Every build ${oneAtATime.name} (ms, sorted): ${hosts.map((host) => `${host.label} ${samples(host)}`).join('; ')}.`);
  for (const host of hosts) {
    lines.push('', `#### ${host.label}: steps of a build, one at a time (median ms since the line before)`, '', '| log line | ms |', '|---|---:|');
    for (const { step, ms } of stepMedians(host, logs.get(host)!, built(oneAtATime, host))) lines.push(`| ${step} | ${ms.toFixed(0)} |`);
  }
  return lines.join('\n');
}

function report(hosts: readonly [Host, Host], first: readonly Batch[], modes: readonly Mode[], discarded: readonly Batch[]): string {
  const logs = new Map(hosts.map((host) => [host, host.compute.stderr.split('\n')]));
  return `${summary(hosts, first, modes, discarded, logs)}\n\n${breakdown(hosts, modes, logs)}`;
}

// ---- the run ------------------------------------------------------------------------------------------------

export async function benchServerCreate(quick: boolean): Promise<string> {
  const plane = await startControlPlane();
  const suffix = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-bench-server-create-'));
  const host = (key: string, label: string, log: LogFormat, config: (name: string, stateDir: string) => string, program?: ComputeProgram): Host => {
    const name = `bench-${key}-${suffix}`;
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, config(name, join(dir, name)));
    return { key, label, log, compute: new ComputeHost(plane, name, file, program) };
  };
  const ours = host('spawnd', 'nova-spawnd', NOVA_SPAWND_LOG, (name, stateDir) => computeHostConfig(plane, name, stateDir, { DEFAULT: { debug: 'true' }, glance: { api_servers: plane.glance_url } }));
  const reference = host('nova-compute', 'nova-compute (fake driver)', NOVA_COMPUTE_LOG, (name, stateDir) => novaComputeConfig(plane, name, stateDir, 'fake.FakeDriver', { DEFAULT: { debug: 'true' } }), NOVA_COMPUTE);
  const hosts = [ours, reference] as const;
  let flavorId: string | null = null;
  let measured = false;
  let database: DatabaseWatch | null = null;
  try {
    const watch = (database = await DatabaseWatch.start(plane));
    await Promise.all(hosts.map((h) => h.compute.start()));
    await Promise.all(hosts.map((h) => h.compute.waitUntilListed()));
    flavorId = ((await openstack(plane, 'compute', ['flavor', 'create', '--ram', '64', '--vcpus', '1', '--disk', '1', `bench-${suffix}`])) as { id: string }).id;
    const discarded: Batch[] = [];
    const run = (h: Host, batchName: string, count: number) => measure(plane, watch, h, flavorId!, `${batchName}-${h.key}-${suffix}`, count, discarded);

    const first: Batch[] = [];
    for (const h of hosts) first.push(await run(h, 'first', 1));
    // Alternating which host goes first, so that neither always follows the other's tail.
    const alternate = (round: number): readonly Host[] => (round % 2 === 0 ? hosts : [reference, ours]);
    const sequential: Batch[] = [];
    for (let round = 0; round < (quick ? 3 : 10); round++) {
      for (const h of alternate(round)) sequential.push(await run(h, `one-${round}`, 1));
    }
    const concurrent: Batch[] = [];
    for (let round = 0; round < (quick ? 1 : 2); round++) {
      for (const h of alternate(round)) {
        await sleep(SETTLE_MS);
        concurrent.push(await run(h, `many-${round}`, CONCURRENT));
      }
    }
    const table = report(hosts, first, [
      { name: 'one at a time', concurrent: false, batches: sequential },
      { name: `${CONCURRENT} at once`, concurrent: true, batches: concurrent },
    ], discarded);
    measured = true;
    return table;
  } finally {
    database?.close();
    await cleanUp(plane, hosts, flavorId, dir, measured);
  }
}

/**
 * Each host retires (ComputeHost.retire: its servers deleted, then its service record), so no bench host stays on
 * the shared control plane. A failure here is told, not thrown: it must not hide the figures or the failure before
 * it. The computes' logs are kept when anything failed.
 */
async function cleanUp(plane: ControlPlane, hosts: readonly Host[], flavorId: string | null, dir: string, measured: boolean): Promise<void> {
  const failures = (await Promise.allSettled([
    ...hosts.map((h) => h.compute.retire()),
    ...(flavorId === null ? [] : [remove(plane, `${plane.compute_url}/flavors/${flavorId}`)]),
  ])).flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as Error] : []));
  for (const failure of failures) console.error(`server-create: cleaning up: ${failure.message}`);
  if (measured && failures.length === 0) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  for (const h of hosts) writeFileSync(join(dir, `${h.compute.name}.log`), h.compute.stderr);
  console.error(`server-create: both computes' logs are kept in ${dir}`);
}
