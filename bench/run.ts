/**
 * `npm run bench [-- --quick] [-- SUITE...]`: measures nova-spawnd against the reference tools in the same
 * run and prints Markdown tables with ratios (the README quotes them). Timings never appear in tests.
 */
import os from 'node:os';
import { benchBus } from './bus.js';
import { benchConfigDrive } from './configdrive.js';
import { benchMetadataApi } from './metadata-api.js';
import { benchServerCreate } from './server-create.js';
import { benchSpawn } from './spawn.js';
import { benchSpawnDelete } from './spawn-delete.js';

const suites: Record<string, (quick: boolean) => Promise<string>> = {
  configdrive: benchConfigDrive,
  bus: benchBus,
  spawn: benchSpawn,
  'metadata-api': benchMetadataApi,
  'spawn-delete': benchSpawnDelete,
  'server-create': benchServerCreate,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((name) => !(name in suites));
  if (unknown.length > 0) throw new Error(`unknown bench suite(s) ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
  console.log(`nova-spawnd benchmarks: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString()}\n`);
  for (const name of wanted.length > 0 ? wanted : Object.keys(suites)) console.log(`${await suites[name]!(quick)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
