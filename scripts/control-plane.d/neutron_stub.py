"""The least of Neutron that Nova 26 needs for servers booted with --nic none (issue 13 only; the networking
issue replaces it with a real neutron-server).

Nova asks Neutron even then: GET /v2.0/ports?device_id=... for the security groups of every server show and
on delete, GET /v2.0/extensions now and then. Every list is empty, every single resource is absent; every
request is logged, so that what Nova asked is on record.

Usage: python3 neutron_stub.py PORT
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class NeutronStub(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        parts = [part for part in urlsplit(self.path).path.split('/') if part]
        if not parts:
            self._answer(200, {'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': []}]})
        elif parts[0] == 'v2.0' and len(parts) == 2:
            # /v2.0/security-groups -> {"security_groups": []}
            self._answer(200, {parts[1].replace('-', '_'): []})
        else:
            self._not_found()

    def do_DELETE(self):
        self._not_found()

    def _not_found(self):
        self._answer(404, {'NeutronError': {'type': 'NotFound', 'message': 'neutron stand-in: %s not found' % self.path, 'detail': ''}})

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == '__main__':
    ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), NeutronStub).serve_forever()
