/** The Linux bridges a bridge VIF is plugged into, made for real on this host (the tests run as root). */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { getLogger } from '../../src/log.js';
import { bridgesToEnsure, LinuxBridges, plugVifs, type HostBridges } from '../../src/virt/vif-plug.js';
import { vif } from './fixtures.js';

const BRIDGE = `brqt${process.pid.toString(16)}`.slice(0, 14);
const removeBridge = () => execFileSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' });
afterAll(() => {
  if (existsSync(`/sys/class/net/${BRIDGE}`)) removeBridge();
});

const wanting = (bridge: string | null, type = 'bridge', should = true) => {
  const base = vif({ type, bridge });
  return { ...base, network: { ...base.network, meta: { ...base.network.meta, should_create_bridge: should } } };
};

test('the bridges to make: each bridge VIF on a network that wants it, each bridge once', () => {
  expect(bridgesToEnsure([wanting('brq1'), wanting('brq1'), wanting('brq2'), wanting('brq3', 'bridge', false), wanting('br-int', 'ovs'), wanting(null)])).toEqual(['brq1', 'brq2']);
});

test('a missing bridge is created up, without IPv6 autoconfiguration; an existing one is kept', async () => {
  const bridges = new LinuxBridges();
  const [first, second] = await Promise.all([bridges.ensureBridge(BRIDGE), bridges.ensureBridge(BRIDGE)]);
  expect([first, second]).toEqual(['created', 'exists']);
  expect(readFileSync(`/sys/class/net/${BRIDGE}/operstate`, 'utf8').trim()).not.toBe('');
  expect(existsSync(`/sys/class/net/${BRIDGE}/bridge`)).toBe(true);
  expect(JSON.parse(execFileSync('ip', ['-json', 'link', 'show', BRIDGE], { encoding: 'utf8' }))[0].flags).toContain('UP');
  if (existsSync(`/proc/sys/net/ipv6/conf/${BRIDGE}/disable_ipv6`)) expect(readFileSync(`/proc/sys/net/ipv6/conf/${BRIDGE}/disable_ipv6`, 'utf8').trim()).toBe('1');
  expect(await new LinuxBridges().ensureBridge(BRIDGE)).toBe('exists');
  removeBridge();
});

test('plugVifs ensures each bridge and logs the ones it made', async () => {
  const asked: string[] = [];
  const bridges: HostBridges = { ensureBridge: async (bridge) => (asked.push(bridge), bridge === 'brq1' ? 'created' : 'exists') };
  await plugVifs([wanting('brq1'), wanting('brq2')], bridges, getLogger('test'), { instance: 'x' });
  expect(asked).toEqual(['brq1', 'brq2']);
});

test('a bridge the host will not make fails with the bridge named', async () => {
  await expect(new LinuxBridges().ensureBridge('bad name!')).rejects.toThrow(/could not create bridge bad name!/);
});
