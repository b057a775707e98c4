/** nova.conf files for the daemon under test, read back through the real configuration loader. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { readBusOptions, type BusOptions } from '../../../src/bus/bus-options.js';
import { loadConfig } from '../../../src/config/load.js';

export type Sections = Record<string, Record<string, string>>;

/** A daemon for `host` on `transportUrl` with versioned notifications on; `extra` adds or overrides options. */
export function daemonSections(host: string, transportUrl: string, extra: Sections = {}): Sections {
  const base: Sections = {
    DEFAULT: { host, transport_url: transportUrl, max_concurrent_builds: '4' },
    libvirt: { virt_type: 'qemu', connection_uri: 'test:///default' },
    oslo_messaging_notifications: { driver: 'messagingv2' },
    notifications: { notification_format: 'versioned' },
    oslo_messaging_rabbit: { heartbeat_timeout_threshold: '10' },
  };
  for (const [section, options] of Object.entries(extra)) base[section] = { ...base[section], ...options };
  return base;
}

export function renderIni(sections: Sections): string {
  return Object.entries(sections)
    .map(([section, options]) => [`[${section}]`, ...Object.entries(options).map(([key, value]) => `${key} = ${value}`)].join('\n'))
    .join('\n\n');
}

/** Writes `sections` to a nova.conf in `dir`, returning its path. */
export function writeConfig(dir: string, sections: Sections): string {
  const path = join(dir, 'nova.conf');
  writeFileSync(path, `${renderIni(sections)}\n`);
  return path;
}

/** The BusOptions `nova-spawnd run` would read from these sections. */
export function busOptions(sections: Sections): BusOptions {
  const dir = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-conf-'));
  try {
    return readBusOptions(loadConfig([writeConfig(dir, sections)]).config);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
