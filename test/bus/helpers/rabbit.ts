/**
 * RabbitMQ for the bus tests: a virtual host of their own on the machine's shared broker (127.0.0.1:5672,
 * guest/guest), or a private broker node that a test may stop, restart or lose without touching the
 * shared one. Every wait is bounded.
 */
import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import amqp, { type ChannelModel } from 'amqplib';

const execFileAsync = promisify(execFile);

export const SHARED_BROKER = { hostname: '127.0.0.1', port: 5672 };

async function rabbitmqctl(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { stdout } = await execFileAsync('rabbitmqctl', args, { env, timeout: 30_000 });
  return stdout;
}

export interface TestVhost {
  name: string;
  /** A transport_url for it, as nova.conf writes one. */
  url: string;
  remove(): Promise<void>;
}

/** A fresh virtual host on the shared broker, with guest allowed everything in it. */
export async function createVhost(label: string, port = SHARED_BROKER.port, node?: string): Promise<TestVhost> {
  const name = `nova-spawnd-test-${label}-${process.pid}-${Date.now().toString(36)}`;
  const target = node ? ['-n', node] : [];
  await rabbitmqctl([...target, 'add_vhost', name]);
  await rabbitmqctl([...target, 'set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
  return {
    name,
    url: `rabbit://guest:guest@127.0.0.1:${port}/${encodeURIComponent(name)}`,
    remove: async () => void (await rabbitmqctl([...target, 'delete_vhost', name]).catch(() => undefined)),
  };
}

/** Per-queue counts as the broker keeps them: ready and unacknowledged messages, consumers. */
export async function queueCounts(vhost: string, node?: string): Promise<Map<string, { ready: number; unacked: number; consumers: number }>> {
  const out = await rabbitmqctl([...(node ? ['-n', node] : []), 'list_queues', '-p', vhost, '--no-table-headers', '--quiet', 'name', 'messages_ready', 'messages_unacknowledged', 'consumers']);
  const counts = new Map<string, { ready: number; unacked: number; consumers: number }>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [name, ready, unacked, consumers] = line.split('\t');
    counts.set(name!, { ready: Number(ready), unacked: Number(unacked), consumers: Number(consumers) });
  }
  return counts;
}

/** Queues and exchanges exactly as the broker holds them, for comparing declarations. */
export async function listDeclarations(vhost: string): Promise<{ queues: string[]; exchanges: string[]; bindings: string[] }> {
  const lines = async (args: string[]): Promise<string[]> =>
    (await rabbitmqctl([...args, '-p', vhost, '--no-table-headers', '--quiet'])).split('\n').filter(Boolean).sort();
  return {
    queues: await lines(['list_queues', 'name', 'durable', 'auto_delete', 'exclusive', 'arguments', 'type']),
    exchanges: (await lines(['list_exchanges', 'name', 'type', 'durable', 'auto_delete', 'internal', 'arguments'])).filter((line) => line.startsWith('nova') || line.startsWith('compute') || line.startsWith('versioned')),
    bindings: await lines(['list_bindings', 'source_name', 'destination_name', 'routing_key', 'arguments']),
  };
}

/** Polls `check` every `everyMs` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String((last as Error).message ?? last)}` : ''}`);
    await sleep(everyMs);
  }
}

async function freePort(): Promise<number> {
  // The node's distribution port is port + 20000: it must stay below 65536.
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/**
 * A broker node of the test's own (machine-facts: RABBITMQ_NODENAME, NODE_PORT, DIST_PORT and the data
 * directories under a temp dir). The Debian wrapper runs the node as the rabbitmq user, who must own the
 * directory; the machine's /etc/rabbitmq/rabbitmq.conf pins the shared node's port, so ours has its own.
 */
export class PrivateRabbit {
  private constructor(
    readonly node: string,
    readonly port: number,
    /** Its AMQPS listener, with a certificate signed by `caFile`. */
    readonly tlsPort: number,
    readonly caFile: string,
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `rabbit://guest:guest@127.0.0.1:${this.port}/`;
  }

  static async start(label: string): Promise<PrivateRabbit> {
    const [port, tlsPort] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(os.tmpdir(), `nova-spawnd-rabbit-${label}-`));
    for (const sub of ['mnesia', 'log']) mkdirSync(join(dir, sub));
    await makeCertificates(dir);
    // The guest user may only log in from localhost, which is where the tests are.
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.local = 127.0.0.1:${port}`,
        `listeners.ssl.local = 127.0.0.1:${tlsPort}`,
        `ssl_options.cacertfile = ${join(dir, 'ca.pem')}`,
        `ssl_options.certfile = ${join(dir, 'server.pem')}`,
        `ssl_options.keyfile = ${join(dir, 'server.key')}`,
        'ssl_options.verify = verify_none',
        'ssl_options.fail_if_no_peer_cert = false',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    const { uid, gid } = await userIds('rabbitmq');
    for (const name of ['', 'mnesia', 'log', 'rabbitmq.conf', 'enabled_plugins', 'ca.pem', 'server.pem', 'server.key']) chownSync(join(dir, name), uid, gid);
    const node = `nova-spawnd-${label}-${process.pid}@localhost`;
    const env = {
      ...process.env,
      RABBITMQ_NODENAME: node,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(port + 20_000),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_PID_FILE: join(dir, 'pid'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    };
    const broker = new PrivateRabbit(node, port, tlsPort, join(dir, 'ca.pem'), dir, env);
    await broker.boot();
    return broker;
  }

  /** Starts the node (again) and waits until it takes AMQP connections. */
  async boot(): Promise<void> {
    await execFileAsync('rabbitmq-server', ['-detached'], { env: this.env, timeout: 30_000 });
    await eventually(`RabbitMQ node ${this.node} to accept connections on port ${this.port}`, async () => {
      const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${this.port}`);
      await connection.close();
      return true;
    }, 60_000, 250);
  }

  /** Stops the node (its connections are closed); waits until its port is closed. */
  async shutdown(): Promise<void> {
    await rabbitmqctl(['-n', this.node, 'stop'], this.env).catch(() => undefined);
    await eventually(`RabbitMQ node ${this.node} to stop listening`, async () => {
      try {
        const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${this.port}`);
        await connection.close();
        return undefined;
      } catch {
        return true;
      }
    }, 30_000, 250);
  }

  /** Freezes the node (SIGSTOP): its sockets stay open but nothing answers, as in a network partition. */
  freeze(): void {
    process.kill(this.pid(), 'SIGSTOP');
  }

  thaw(): void {
    process.kill(this.pid(), 'SIGCONT');
  }

  private pid(): number {
    return Number(readFileSync(join(this.dir, 'pid'), 'utf8').trim());
  }

  async restart(): Promise<void> {
    await this.shutdown();
    await this.boot();
  }

  /** Stops the node and removes its data. */
  async destroy(): Promise<void> {
    await this.shutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Client connections by the name they gave (connection_name), and whether they use TLS. */
  async connections(): Promise<{ name: string; ssl: boolean }[]> {
    const out = await rabbitmqctl(['-n', this.node, 'list_connections', '--no-table-headers', '--quiet', 'client_properties', 'ssl']);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ name: /\{"connection_name","([^"]*)"\}/.exec(line)?.[1] ?? '', ssl: line.trim().endsWith('true') }));
  }

  queueCounts(vhost = '/'): ReturnType<typeof queueCounts> {
    return queueCounts(vhost, this.node);
  }
}

/** A CA and a server certificate it signed (for 127.0.0.1), as an operator's PKI would provide. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = (...args: string[]) => execFileAsync('openssl', args, { cwd: dir, timeout: 30_000 });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=nova-spawnd test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName = IP:127.0.0.1\n');
  await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.cnf', '-out', 'server.pem');
}

async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const { stdout: uid } = await execFileAsync('id', ['-u', user]);
  const { stdout: gid } = await execFileAsync('id', ['-g', user]);
  return { uid: Number(uid), gid: Number(gid) };
}

/** A test's own AMQP client, to publish like a conductor and read what the daemon published. */
export async function connectClient(url: string): Promise<ChannelModel> {
  const parsed = new URL(url.replace(/^rabbit:/, 'amqp:'));
  return amqp.connect(
    {
      hostname: parsed.hostname,
      port: Number(parsed.port),
      username: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      vhost: decodeURIComponent(parsed.pathname.slice(1)) || '/',
    },
    { noDelay: true },
  );
}
