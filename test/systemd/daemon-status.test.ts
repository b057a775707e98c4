import { daemonStatus } from '../../src/systemd/daemon-status.js';

const up = { checkBrokers: () => undefined, busy: 0 };
const down = {
  checkBrokers: () => {
    throw new Error('not connected to the rpc broker');
  },
  busy: 1,
};

describe('daemonStatus', () => {
  it.each([
    [up, null, 'connected to the broker, consuming; 0 builds in flight'],
    [{ ...up, busy: 3 }, true, 'connected to the broker, consuming; 3 builds in flight; registered with the control plane'],
    [down, false, 'not connected to the rpc broker, reconnecting; 1 build in flight; registering with the control plane'],
  ])('%#: %s', (daemon, registered, expected) => {
    expect(daemonStatus(daemon, registered)).toBe(expected);
  });
});
