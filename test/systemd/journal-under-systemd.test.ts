/**
 * The daemon's log lines in a real journal (systemd and journald of a container, test/systemd/container.ts),
 * read back with `journalctl -o json`: first through stderr, the unit's journal stream, where the <N> prefixes
 * give each line its priority; then, after `use_journal = true` and a reload, through journald's native
 * protocol, with oslo.log's fields and INSTANCE_UUID. A build that cannot find its image gives the error line.
 */
import type { Channel, ChannelModel } from 'amqplib';
import { connectClient, createVhost, eventually, type TestVhost } from '../bus/helpers/rabbit.js';
import { castBody, newInstance, novaCastTemplate, type CastTemplate, type TestInstance } from '../bus/helpers/messages.js';
import { containerDaemonConfig, installDaemon, installationUnderTest, systemdRoot, SystemdContainer, type JournalEntry } from './container.js';

const UNIT = 'nova-spawnd.service';

describe("the daemon's lines in a real journal", () => {
  let container: SystemdContainer;
  let vhost: TestVhost;
  let client: ChannelModel;
  let channel: Channel;
  let template: CastTemplate;
  let config: string;
  const host = `journal-test-${process.pid}`;

  /** A cast for an instance whose image is nowhere (no Glance): the build fails at its image, an ERROR. */
  const castOf = (instance: TestInstance): { requestId: string } => {
    let requestId = '';
    const body = castBody(template, instance, (inner, data) => {
      data['image_ref'] = '00000000-0000-4000-8000-00000000dead';
      requestId = inner['_context_request_id'] as string;
    });
    channel.publish('nova', `compute.${host}`, body, template.properties);
    return { requestId };
  };

  /** The daemon's entries about an instance, once one at ERROR is there. */
  const entriesAbout = (instance: TestInstance, about: (entry: JournalEntry) => boolean) =>
    eventually(`an error line about ${instance.uuid} in the journal`, async () => {
      const entries = (await container.journal(UNIT)).filter(about);
      return entries.some((entry) => entry.PRIORITY === '3') ? entries : undefined;
    }, 60_000, 500);

  beforeAll(async () => {
    const root = await systemdRoot();
    vhost = await createVhost('journal');
    template = await novaCastTemplate();
    const installation = installationUnderTest();
    container = await SystemdContainer.boot(root, `nova-spawnd-journal-${process.pid}`, [['/usr/bin/node', '/usr/bin/node'], ...installation.binds]);
    config = await containerDaemonConfig(host, vhost.url);
    await installDaemon(container, installation, config, '[Service]\n');
    await container.run(['systemctl', 'start', UNIT]);
    client = await connectClient(vhost.url);
    channel = await client.createChannel();
  }, 600_000);

  afterAll(async () => {
    await client?.close();
    await container?.stop();
    await vhost?.remove();
  });

  it('on stderr, the journal stream: PRIORITY 6 for an info line, 4 for a warning, 3 for an error', async () => {
    const instance = newInstance();
    castOf(instance);
    const entries = await entriesAbout(instance, (entry) => entry.MESSAGE.includes(`[instance: ${instance.uuid}] `));
    const starting = (await container.journal(UNIT)).find((entry) => / INFO nova_spawnd \[-\] nova-spawnd \S+ starting/.test(entry.MESSAGE));
    expect(starting).toMatchObject({ PRIORITY: '6', SYSLOG_IDENTIFIER: 'nova-spawnd' });
    const error = entries.find((entry) => entry.PRIORITY === '3')!;
    expect(error.MESSAGE).toMatch(new RegExp(`^\\S+ \\S+ \\d+ ERROR nova_spawnd\\.\\S+ \\[\\S+ req-\\S+ [^\\]]+\\] \\[instance: ${instance.uuid}\\] `));
    expect(entries).toContainEqual(expect.objectContaining({ PRIORITY: '4', MESSAGE: expect.stringMatching(/ WARNING .*message rejected/) }));
    // A stream line carries no fields of its own.
    expect(error['INSTANCE_UUID']).toBeUndefined();
  });

  it('with use_journal, after a reload: the native fields, INSTANCE_UUID and REQUEST_ID among them; journalctl -p err finds the error', async () => {
    await container.writeFile('/etc/nova/nova-spawnd.conf', config.replace('[DEFAULT]\n', '[DEFAULT]\nuse_journal = true\n'), '0640', 'root:nova');
    await container.run(['systemctl', 'reload', UNIT]);
    const instance = newInstance();
    const { requestId } = castOf(instance);
    const entries = await entriesAbout(instance, (entry) => entry['INSTANCE_UUID'] === instance.uuid);
    const error = entries.find((entry) => entry.PRIORITY === '3')!;
    expect(error).toMatchObject({
      SYSLOG_IDENTIFIER: 'nova-spawnd',
      LOGGER_LEVEL: 'ERROR',
      LOGGER_NAME: expect.stringMatching(/^nova_spawnd\./),
      REQUEST_ID: requestId,
      CODE_FILE: expect.stringMatching(/\/dist\/src\/.*\.js$/),
      CODE_FUNC: expect.any(String),
      SYSLOG_FACILITY: '1',
      _SYSTEMD_UNIT: UNIT,
      _TRANSPORT: 'journal',
    });
    expect(error.MESSAGE).toMatch(new RegExp(`^\\S+ \\S+ \\d+ ERROR \\S+ \\[\\S+ ${requestId} [^\\]]+\\] \\[instance: ${instance.uuid}\\] `));
    expect(entries).toContainEqual(expect.objectContaining({ PRIORITY: '4', INSTANCE_UUID: instance.uuid, REQUEST_ID: requestId }));

    const { stdout } = await container.run(['journalctl', '--unit', UNIT, '--priority=err', '--output=json', '--no-pager', `INSTANCE_UUID=${instance.uuid}`]);
    const errors = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as JournalEntry);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((entry) => Number(entry.PRIORITY) <= 3 && entry['INSTANCE_UUID'] === instance.uuid)).toBe(true);
  });
});
