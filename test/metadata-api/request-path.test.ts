/**
 * Paths and Accept headers as Nova's stack reads them: our normpath against Python's posixpath.normpath,
 * our request path against webob's PATH_INFO, our Accept negotiation against webob's acceptable_offers,
 * all run on Debian's Python.
 */
import { acceptableOffers } from '../../src/metadata-api/accept.js';
import { normpath, requestPath } from '../../src/metadata-api/request-path.js';
import { runPython } from '../metadata/python.js';

const PATHS = [
  '', '/', '//', '///', '////x', '//openstack', '/./', '.', '..', '../x', '/..', '/../..', '/a/..', '/a/../..', 'a/../..',
  '/openstack/latest/', '/openstack/../../etc/passwd', '/openstack/./latest//meta_data.json', '/a/b/../../c/./d/',
  'a//b', '../../a/b', '/a/.../b', '/..a/b..', '//a/../..', '/a/b/c/../../../../d',
];

const TARGETS = [
  '/', '/openstack/latest/meta_data.json?x=1', '/openstack/%2e%2e/%2e%2e/etc/passwd', '/%2F%2f', '/a%20b', '/caf%C3%A9',
  '/%zz/..', '/%', '/a%2', '/x?y=%2e%2e', '/openstack/lat%65st', '//x/../y',
];

test('normpath is posixpath.normpath', async () => {
  const python = JSON.parse(await runPython(['-c', 'import json, posixpath, sys; print(json.dumps([posixpath.normpath(p) for p in json.load(sys.stdin)]))'], PATHS)) as string[];
  expect(PATHS.map(normpath)).toEqual(python);
});

test("requestPath is eventlet's PATH_INFO as webob reads it, normalised", async () => {
  // eventlet.wsgi: PATH_INFO = unquote(path, encoding='latin1'); webob decodes that as UTF-8.
  const script = [
    'import json, posixpath, sys, urllib.parse',
    'def path_info(target):',
    "    return urllib.parse.unquote(target.split('?', 1)[0], encoding='latin1').encode('latin1').decode('utf-8')",
    'print(json.dumps([posixpath.normpath(path_info(t)) for t in json.load(sys.stdin)]))',
  ].join('\n');
  const python = JSON.parse(await runPython(['-c', script], TARGETS)) as string[];
  expect(TARGETS.map(requestPath)).toEqual(python);
});

test('requestPath: not origin-form, or not UTF-8, names nothing', () => {
  expect(requestPath('*')).toBeNull();
  expect(requestPath('http://169.254.169.254/openstack')).toBeNull();
  expect(requestPath('/%ff')).toBeNull();
  expect(requestPath('/openstack/%c0%ae')).toBeNull();
});

const ACCEPTS = [
  '', '*/*', 'text/html', 'application/json', 'text/plain', 'TEXT/HTML', 'text/*', 'application/*', '*/*;q=0.1, application/json',
  'application/json, text/html;q=0.9', 'text/html;q=0.5, application/json;q=0.5', 'text/html;q=0', 'text/html;q=0, */*',
  'text/html;level=1', 'text/html;level=1, application/json;q=0.2', 'application/json;q=0.001', 'text/html;q=1.000',
  'text/html; q=0.3, application/json; q=0.2', 'not a media type', 'text/html;q=2', 'text/html;q=0.1234', ',text/html',
  'text/html,,application/json;q=0.4', ', ,text/html', ',', 'text/html ,application/json', 'text/html, application/json;q=0.3', 'image/png', 'text/html;charset="utf-8";q=0.7, application/json;q=0.6',
];

test("acceptableOffers is webob's Accept.acceptable_offers", async () => {
  const script = [
    'import json, sys',
    'from webob.acceptparse import create_accept_header',
    'offers = ["text/html", "application/json"]',
    'print(json.dumps([[o for o, q in create_accept_header(h).acceptable_offers(offers)] for h in json.load(sys.stdin)]))',
  ].join('\n');
  const python = JSON.parse(await runPython(['-c', script], ACCEPTS)) as string[][];
  expect(ACCEPTS.map((header) => [header, acceptableOffers(header, ['text/html', 'application/json'])])).toEqual(
    ACCEPTS.map((header, index) => [header, python[index]]),
  );
});
