/**
 * Spawn throughput on test:///default through the pipeline (image cache, qcow2 overlay, domain XML, config
 * drive, define, start) against the raw binding's define+start loop, and on a real qemu:///system guest the
 * time from spawn call to power-off against the same guest started directly with virsh.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Hypervisor } from '@unraid/libvirt';
import { SpawnPipeline } from '../src/compute/spawn-pipeline.js';
import { getLogger, setLogSink } from '../src/log.js';
import { LibvirtConnection } from '../src/virt/connection.js';
import { consoleLogPath } from '../src/virt/instance-paths.js';
import { ImageCache, LocalDiskPreparer } from '../src/virt/imagecache/index.js';
import { openMetadataRegistry } from '../src/metadata-api/registry.js';
import type { SpawnRequest } from '../src/nova/spawn-request.js';
import { seedImage } from '../test/compute/seed-image.js';
import { ensureGuestImage } from '../test/e2e/guest.js';
import { ensureLibvirtd, SYSTEM_URI, virsh, waitForShutoff } from '../test/e2e/libvirtd.js';
import { fullRequest, testOptions } from '../test/metadata/fixtures.js';
import { virtOptions } from '../test/virt/fixtures.js';
import { row, table, type Row } from './stats.js';

const uuidOf = (n: number, prefix: string): string => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function pipelineOn(connection: LibvirtConnection, instancesPath: string, virtType: 'qemu' | 'kvm' = 'qemu'): Promise<SpawnPipeline> {
  const records = await openMetadataRegistry(instancesPath, getLogger('bench.metadata'));
  return new SpawnPipeline(
    { virt: virtOptions({ instances_path: instancesPath, virt_type: virtType }), metadata: testOptions(), drive: { format: 'iso9660', force_config_drive: false, mkisofsCmd: null } },
    { connection, disks: new LocalDiskPreparer(new ImageCache({ instancesPath, apiServers: [] }), { defaultEphemeralFormat: null }), log: getLogger('bench'), records },
  );
}

function benchRequest(n: number, prefix: string): SpawnRequest {
  return fullRequest({ id: n, uuid: uuidOf(n, prefix), network_info: [] });
}

/** Milliseconds per item for `count` items run `concurrency` at a time. */
async function concurrently(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const start = process.hrtime.bigint();
      await work(i);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return samples;
}

async function throughput(quick: boolean): Promise<string> {
  const count = quick ? 100 : 1000;
  const concurrency = 10;
  const instancesPath = mkdtempSync(join(os.tmpdir(), 'nova-spawnd-bench-spawn-'));
  try {
    seedImage(instancesPath, fullRequest().image.id!);
    const hypervisor = new Hypervisor({ uri: 'test:///default' });
    await hypervisor.connectOpen();
    const template = (await pipelineOn(new LibvirtConnection('test:///default'), instancesPath)).dryRun(benchRequest(1, 'aaaaaaaa')).xml;
    const rawStart = Date.now();
    // The binding's workers keep only a raw pointer to a domain: the object must outlive the calls using it.
    const held: unknown[] = [];
    const raw = await concurrently(count, concurrency, async (i) => {
      const xml = template.replaceAll(uuidOf(1, 'aaaaaaaa'), uuidOf(i, 'bbbbbbbb')).replace(/<name>[^<]*<\/name>/, `<name>raw-${i}</name>`);
      const domain = await hypervisor.domainDefineXML(xml);
      held.push(domain);
      await hypervisor.domainCreate(domain);
    });
    held.length = 0;
    const rawSeconds = (Date.now() - rawStart) / 1000;
    await hypervisor.connectClose();

    const connection = new LibvirtConnection('test:///default');
    const pipeline = await pipelineOn(connection, instancesPath);
    const oursStart = Date.now();
    const ours = await concurrently(count, concurrency, async (i) => void (await pipeline.spawn(benchRequest(10_000 + i, 'cccccccc'))));
    const oursSeconds = (Date.now() - oursStart) / 1000;
    await connection.close();

    const rows: Row[] = [row('raw binding: defineXML + create', raw), row('nova-spawnd pipeline: disks + XML + drive + define + start', ours, 'raw binding: defineXML + create')];
    return [
      table(`Spawns on test:///default, ${count} instances, ${concurrency} at a time`, rows),
      '',
      `| throughput | spawns/s |\n|---|---:|\n| raw binding | ${(count / rawSeconds).toFixed(0)} |\n| nova-spawnd pipeline | ${(count / oursSeconds).toFixed(0)} |`,
    ].join('\n');
  } finally {
    rmSync(instancesPath, { recursive: true, force: true });
  }
}

async function realGuest(quick: boolean): Promise<string> {
  await ensureLibvirtd();
  const guest = await ensureGuestImage();
  mkdirSync('/var/lib/nova-spawnd-test', { recursive: true, mode: 0o755 });
  const instancesPath = mkdtempSync('/var/lib/nova-spawnd-test/bench-');
  chmodSync(instancesPath, 0o755);
  const runs = quick ? 1 : 3;
  const connection = new LibvirtConnection(SYSTEM_URI);
  try {
    const kernelId = 'a0000000-0000-4000-8000-00000000000a';
    const ramdiskId = 'b0000000-0000-4000-8000-00000000000b';
    seedImage(instancesPath, kernelId, guest.kernel);
    seedImage(instancesPath, ramdiskId, guest.initrd);
    seedImage(instancesPath, fullRequest().image.id!);
    const pipeline = await pipelineOn(connection, instancesPath);
    const ours: number[] = [];
    const direct: number[] = [];
    for (let run = 0; run < runs; run++) {
      const base = fullRequest({
        id: 0xbe00 + run,
        uuid: uuidOf(0xbe00 + run, 'dddddddd'),
        network_info: [],
        kernel_id: kernelId,
        ramdisk_id: ramdiskId,
        flavor: { name: 'bench', flavorid: 'b', vcpus: 1, memory_mb: 128, root_gb: 1, ephemeral_gb: 0, swap: 0, extra_specs: {} },
      });
      const request = { ...base, image: { ...base.image, properties: { os_command_line: guest.cmdline } } };
      let start = Date.now();
      const result = await pipeline.spawn(request);
      await waitForShutoff(result.domain, { pollMs: 50, consolePath: consoleLogPath(instancesPath, request.instance.uuid) });
      ours.push(Date.now() - start);
      // The same guest, its drive already built, started directly: what libvirt and qemu cost without us.
      const xml = readFileSync(join(instancesPath, request.instance.uuid, 'libvirt.xml'), 'utf8');
      await connection.undefine(result.domain);
      writeFileSync(consoleLogPath(instancesPath, request.instance.uuid), '');
      const file = join(instancesPath, `direct-${run}.xml`);
      writeFileSync(file, xml);
      start = Date.now();
      await virsh('create', file);
      await waitForShutoff(result.domain, { pollMs: 50 });
      direct.push(Date.now() - start);
    }
    const rows = [row('virsh create of the same domain XML, to power-off', direct), row('nova-spawnd spawn call, to power-off', ours)];
    const overhead = (rows[1]!.medianMs - rows[0]!.medianMs).toFixed(0);
    return `${table(`A real guest on qemu:///system (TCG), ${runs} run(s) each`, rows)}\n\nnova-spawnd's overhead (median difference): ${overhead} ms`;
  } finally {
    await connection.close();
    rmSync(instancesPath, { recursive: true, force: true });
  }
}

export async function benchSpawn(quick: boolean): Promise<string> {
  setLogSink(() => undefined);
  return [await throughput(quick), await realGuest(quick)].join('\n\n');
}
