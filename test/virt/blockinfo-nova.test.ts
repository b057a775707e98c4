/**
 * Our attach rules against Nova's own (python3-nova's blockinfo.get_disk_bus_for_device_type and
 * get_disk_mapping, run by helpers/nova_blockinfo.py): the same buses and the same mapping, key for key,
 * for every row of the table and the edges around it; and Nova refuses what we refuse.
 */
import { fileURLToPath } from 'node:url';
import { runPython } from '../metadata/python.js';
import { EDGES, ourDiskInfo, REFUSED, TABLE, type AttachScenario } from './attach-scenarios.js';

const HELPER = fileURLToPath(new URL('./helpers/nova_blockinfo.py', import.meta.url));

function novaScenario(s: AttachScenario, virtType: string) {
  return {
    virt_type: virtType,
    host_arch: s.hostArch,
    properties: s.properties,
    hw_machine_type: s.machineTypes,
    disk_prefix: s.diskPrefix,
    ephemeral_gb: s.ephemeralGb,
    swap: s.swapMb,
    root_device_name: s.rootDeviceName,
    config_drive: s.configDrive,
  };
}

async function novaDiskInfo(scenarios: AttachScenario[], virtType: string): Promise<unknown[]> {
  return JSON.parse(await runPython([HELPER], scenarios.map((s) => novaScenario(s, virtType)))) as unknown[];
}

const AGREED = [...TABLE.map((row) => row.scenario), ...EDGES];

describe.each(['kvm', 'qemu'])("Nova's blockinfo on virt_type %s", (virtType) => {
  let nova: unknown[];
  let refusedByNova: unknown[];
  beforeAll(async () => {
    [nova, refusedByNova] = await Promise.all([novaDiskInfo(AGREED, virtType), novaDiskInfo(REFUSED, virtType)]);
  });

  test.each(AGREED.map((s, index) => [s.label, s, index] as const))('same disk_info: %s', (_label, s, index) => {
    expect(ourDiskInfo(s)).toEqual(nova[index]);
  });

  test.each(REFUSED.map((s, index) => [s.label, index] as const))('Nova refuses too: %s', (_label, index) => {
    expect(refusedByNova[index]).toEqual({ error: expect.stringMatching(/^(ValueError|UnsupportedHardware)$/) });
  });
});
