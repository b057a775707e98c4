/**
 * What neutron-metadata-agent does in front of Nova's metadata API, for one instance: forward the guest's
 * request unchanged, adding X-Instance-ID, X-Tenant-ID, X-Instance-ID-Signature and X-Forwarded-For.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { proxyHeaders, SECRET } from './fixtures.js';

export interface NeutronProxy {
  url: string;
  close(): Promise<void>;
}

export async function startNeutronProxy(target: { port: number }, instance: { uuid: string; tenant: string; fixedIp: string }, secret = SECRET): Promise<NeutronProxy> {
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, ...proxyHeaders(instance.uuid, instance.tenant, secret, instance.fixedIp) },
      },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => res.destroy(error));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
