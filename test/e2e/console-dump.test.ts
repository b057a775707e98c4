import { GuestConsoleError, parseConsole, parseGuestDump, parseGuestNetwork } from './console-dump.js';

/** What guest-init.sh prints for these files, wrapped at 76 columns like busybox base64, with the tty's CRLF. */
function guestConsole(files: ReadonlyMap<string, Buffer>, { complete = true } = {}): string {
  const lines = ['[    0.000000] Linux version 6.1.0-56-amd64', '[    1.831366] Run /init as init process', '===DRIVE /dev/sr0 iso9660==='];
  for (const [path, bytes] of files) {
    lines.push(`===BEGIN ${path}===`, ...(bytes.toString('base64').match(/.{1,76}/g) ?? []), `===END ${path}===`);
  }
  if (complete) lines.push(`===DUMP COMPLETE ${files.size} files===`, '[    2.862859] reboot: Power down');
  return lines.map((line) => `${line}\r\n`).join('');
}

const FILES = new Map([
  ['openstack/latest/meta_data.json', Buffer.from('{"uuid": "x"}')],
  ['openstack/latest/user_data', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256))],
  ['openstack/latest/empty', Buffer.alloc(0)],
  ['name with spaces', Buffer.from('a')],
]);

test('recovers every file byte for byte, the device and the filesystem, ignoring kernel messages', () => {
  expect(parseGuestDump(guestConsole(FILES))).toEqual({ device: '/dev/sr0', fstype: 'iso9660', files: FILES });
  expect(parseConsole(guestConsole(FILES))).toEqual(FILES);
});

test.each([
  ['an error the guest reported', '===ERROR no filesystem labelled config-2; block devices: 8 0 65536 sda===\r\n', /the guest reported: no filesystem labelled config-2/],
  ['a console that ends before the dump', guestConsole(FILES, { complete: false }), /incomplete: the console ends after 4 files/],
  ['a console cut inside a file', guestConsole(FILES).split('===END openstack/latest/user_data')[0]!, /ends inside the block of "openstack\/latest\/user_data"/],
  ['a kernel message inside a file', guestConsole(FILES).replace('===END openstack/latest/meta_data.json', '[ 2.1] sd 0:0:0:0: oops\r\n$&'), /line 6 inside the block of "openstack\/latest\/meta_data.json" is not base64/],
  ['a lost file block', guestConsole(FILES).replace('DUMP COMPLETE 4', 'DUMP COMPLETE 5'), /announced "5 files" but 4 file blocks were read/],
  ['a truncated base64 line', guestConsole(FILES).replace('eyJ1dWlkIjogIngifQ==', 'eyJ1dWlkIjogIngifQ='), /base64 of "openstack\/latest\/meta_data.json" is malformed/],
])('rejects %s, quoting the console', (_, log, message) => {
  expect(() => parseGuestDump(log)).toThrow(GuestConsoleError);
  expect(() => parseGuestDump(log)).toThrow(message);
  expect(() => parseGuestDump(log)).toThrow(/--- last lines of the guest console ---/);
});

describe('the network lines after the dump', () => {
  const withNetwork = (...lines: string[]) => guestConsole(FILES).replace('[    2.862859]', `${lines.map((line) => `${line}\r\n`).join('')}[    2.862859]`);

  test('the NIC configured and the gateway pinged', () => {
    expect(parseGuestNetwork(withNetwork('===NET fa:16:3e:00:00:01 10.9.0.5/24 eth0===', '===PING 10.9.0.1 ok==='))).toEqual({
      mac: 'fa:16:3e:00:00:01', address: '10.9.0.5/24', nic: 'eth0', gateway: '10.9.0.1', pinged: true,
    });
    expect(parseGuestNetwork(withNetwork('===NET fa:16:3e:00:00:01 10.9.0.5/24 eth0===', '===PING 10.9.0.1 failed==='))?.pinged).toBe(false);
  });

  test('none without a static network on the drive', () => {
    expect(parseGuestNetwork(guestConsole(FILES))).toBeNull();
  });

  test.each([
    ['an error configuring the NIC', withNetwork('===ERROR no NIC with MAC fa:16:3e:00:00:01: 52:54:00:00:00:01 ==='), /the guest reported: no NIC with MAC/],
    ['a NIC line without its ping', withNetwork('===NET fa:16:3e:00:00:01 10.9.0.5/24 eth0==='), /without its ===PING===/],
    ['no dump at all', '===NET a b c===\r\n', /no ===DUMP COMPLETE===/],
  ])('rejects %s', (_, log, message) => {
    expect(() => parseGuestNetwork(log)).toThrow(message);
  });
});
