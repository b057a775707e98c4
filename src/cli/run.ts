import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readBusOptions } from '../bus/bus-options.js';
import { SpawnDaemon } from '../bus/spawn-daemon.js';
import { SpawnPipeline } from '../compute/spawn-pipeline.js';
import type { Spawner } from '../compute/spawner.js';
import type { LoadedConfig } from '../config/load.js';
import { effectiveLines } from '../config/render.js';
import { getLogger, setDebug, type Logger } from '../log.js';
import { loadMetadataOptions } from '../metadata/load-options.js';
import { LibvirtConnection } from '../virt/connection.js';
import { connectionUri } from '../virt/connection-uri.js';
import { probeHost } from '../virt/host-facts.js';
import { ImageCache, LocalDiskPreparer } from '../virt/imagecache/index.js';
import { readVirtOptions } from '../virt/virt-options.js';
import { VERSION } from '../version.js';
import { configFileOption, loadFromArgs } from './config-options.js';
import { EX_OK } from './exit-codes.js';

export const runHelp = `usage: nova-spawnd run [--config-file FILE]...

Runs the daemon in the foreground (what the systemd unit starts): consumes build_and_run_instance from the
compute.<host> queue of [DEFAULT] transport_url and spawns the guests. SIGTERM or SIGINT stops it after the
builds in flight (exit 0); SIGHUP re-reads [DEFAULT] debug.`;

/** The spawn pipeline and what it holds open; the one place the daemon's Spawner is put together. */
async function createSpawner(loaded: LoadedConfig, log: Logger): Promise<{ spawner: Spawner; close: () => Promise<void> }> {
  const { config } = loaded;
  const instancesPath = config.DEFAULT.instances_path;
  await mkdir(instancesPath, { recursive: true });
  const virt = readVirtOptions(config, await probeHost(instancesPath));
  const connection = new LibvirtConnection(connectionUri(config.libvirt));
  const cache = new ImageCache({ instancesPath, apiServers: config.glance.api_servers, log: log.child('imagecache') });
  const spawner = new SpawnPipeline(
    {
      virt,
      metadata: loadMetadataOptions(config),
      drive: {
        format: config.DEFAULT.config_drive_format,
        force_config_drive: config.DEFAULT.force_config_drive,
        mkisofsCmd: loaded.explicitlySet.has('DEFAULT.mkisofs_cmd') ? config.DEFAULT.mkisofs_cmd : null,
      },
    },
    { connection, disks: new LocalDiskPreparer(cache, { defaultEphemeralFormat: null }), log: log.child('compute') },
  );
  return { spawner, close: () => connection.close() };
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: configFileOption, strict: true });
  // Before anything is logged: a supervisor may signal as soon as it sees us start, and SIGHUP's default
  // action would kill us.
  let onHangup: () => void = () => undefined;
  process.on('SIGHUP', () => onHangup());
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const loaded = loadFromArgs(values['config-file']);
  setDebug(loaded.config.DEFAULT.debug);
  const log = getLogger('nova_spawnd');
  log.info(`nova-spawnd ${VERSION} starting`, { host: loaded.config.DEFAULT.host, files: loaded.files.join(',') || 'none' });
  for (const line of effectiveLines(loaded.config)) log.debug(line);
  onHangup = () => {
    try {
      const debug = loadFromArgs(values['config-file']).config.DEFAULT.debug;
      setDebug(debug);
      log.info('SIGHUP: log level re-read', { debug });
    } catch (error) {
      log.error(`SIGHUP: configuration not re-read, keeping the current log level: ${(error as Error).message}`);
    }
  };

  const bus = readBusOptions(loaded.config);
  const { spawner, close } = await createSpawner(loaded, log);
  const daemon = new SpawnDaemon({ bus }, { spawner, log: log.child('bus') });
  daemon.start();

  // Signal handlers do not keep Node's event loop alive, and between two connection attempts nothing else may.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  const signal = await stopped;
  log.info(`received ${signal}: no new builds, waiting for the ${daemon.busy} in flight`);
  const finished = await daemon.stop();
  await close();
  clearInterval(keepAlive);
  log.info(finished ? 'stopped' : 'stopped with builds unfinished (left unacked for redelivery)');
  return EX_OK;
}
