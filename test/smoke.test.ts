import { Hypervisor } from '@unraid/libvirt';

test('the libvirt binding loads under jest ESM and talks to test:///default', async () => {
  const hypervisor = new Hypervisor({ uri: 'test:///default' });
  await hypervisor.connectOpen();
  expect(await hypervisor.connectGetHostname()).toBeTruthy();
  await hypervisor.connectClose();
});
