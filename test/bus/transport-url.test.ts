/** transport_url as oslo.messaging itself reads it (TransportURL.parse and the rabbit driver's defaults). */
import { TransportUrlError } from '../../src/bus/transport-url-error.js';
import { parseTransportUrl } from '../../src/bus/transport-url.js';
import { runPython } from '../metadata/python.js';

const OSLO_PARSE = `
import json, sys
from oslo_config import cfg
import oslo_messaging
result = []
for url in json.load(sys.stdin):
    parsed = oslo_messaging.TransportURL.parse(cfg.CONF, url)
    hosts = [{'hostname': h.hostname, 'port': h.port or 5672, 'username': h.username or '', 'password': h.password or ''}
             for h in parsed.hosts] or [{'hostname': 'localhost', 'port': 5672, 'username': 'guest', 'password': 'guest'}]
    # impl_rabbit passes url.virtual_host or '' to kombu, which reads '' as "/".
    result.append([dict(h, vhost=parsed.virtual_host or '/') for h in hosts])
json.dump(result, sys.stdout)
`;

const URLS = [
  'rabbit://',
  'rabbit://guest:guest@127.0.0.1:5672/',
  'rabbit://nova:s3cr%40t@rabbit-1:5673,nova:s3cr%40t@rabbit-2:5674,nova:s3cr%40t@rabbit-3/nova',
  'rabbit://user:p%3Ass@[fd00::1]:5672/%2Fcloud',
  'rabbit://a:b@h1,c:d@h2:5999/',
  'rabbit://only-user@broker/vh',
  'rabbit://u:p@broker:5672/vhost?ssl=1',
  'kombu://u:p@broker',
];

test('hosts, ports, credentials and virtual host are what oslo.messaging reads, in the order written', async () => {
  const oslo = JSON.parse(await runPython(['-c', OSLO_PARSE], URLS)) as unknown[];
  expect(URLS.map((url) => parseTransportUrl(url))).toEqual(oslo);
});

test.each([
  ['amqp://u:p@h/', /scheme "amqp" is not RabbitMQ's/],
  ['rabbit://u:p@h:notaport/', /port "notaport" of host h/],
  ['rabbit://u:p@h:70000/', /port "70000"/],
  ['rabbit://u:p@[fd00::1/', /opens an IPv6 "\[" it does not close/],
  ['rabbit://u:p@:5672/', /names no host/],
  ['rabbit://u:%zz@h/', /password has a malformed %-escape/],
  ['not a url', /is not a URL of the form/],
])('%s is refused, with the password masked', (url, reason) => {
  let error: unknown;
  try {
    parseTransportUrl(url);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(TransportUrlError);
  expect((error as Error).message).toMatch(reason);
  expect((error as Error).message).not.toMatch(/:(p|%zz)@/);
});
