/**
 * Stands in for Glance's image API on 127.0.0.1, under any path prefix: `GET /v2/images/{id}/file` as Glance
 * answers it (200 with the bytes, Content-Length and Content-MD5; 404 for an unknown image), the image
 * record `GET /v2/images/{id}` that glanceclient reads first, the failures a real server or network
 * produces, and a record of every request with its X-Auth-Token.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  /** Serve the bytes. With `holdAfter`, send that many, then wait for release() before the rest. */
  | { kind: 'serve'; bytes: Buffer; holdAfter?: number; contentMd5?: string | null }
  | { kind: 'status'; status: number }
  /** Announce all the bytes, send `after` of them, then drop the connection. */
  | { kind: 'drop'; bytes: Buffer; after: number }
  /** Announce all the bytes, send `after` of them, then go silent with the connection open. */
  | { kind: 'stall'; bytes: Buffer; after: number };

export interface RecordedRequest {
  method: string;
  path: string;
  authToken: string | null;
}

const CHUNK = 1 << 20;

/** res.write with backpressure, in 1 MiB pieces. */
async function send(response: http.ServerResponse, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    if (!response.write(bytes.subarray(offset, offset + CHUNK))) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          response.off('drain', done).off('close', done);
          resolve();
        };
        response.on('drain', done).on('close', done);
      });
    }
    if (response.destroyed) return;
  }
}

export class FakeGlance {
  readonly requests: RecordedRequest[] = [];
  private readonly images = new Map<string, Behaviour>();
  private releaseHeld: () => void = () => {};
  private held = new Promise<void>((resolve) => (this.releaseHeld = resolve));

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FakeGlance> {
    const glance: FakeGlance = new FakeGlance(http.createServer((request, response) => void glance.handle(request, response)));
    await new Promise<void>((resolve) => glance.server.listen(0, '127.0.0.1', resolve));
    return glance;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  set(imageId: string, behaviour: Behaviour): void {
    this.images.set(imageId, behaviour);
  }

  /** The data requests for the image (not its record). */
  requestsFor(imageId: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path.endsWith(`/v2/images/${encodeURIComponent(imageId)}/file`));
  }

  /** Lets every held response send the rest of its bytes. */
  release(): void {
    this.releaseHeld();
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const token = request.headers['x-auth-token'];
    this.requests.push({ method: request.method ?? '', path: request.url ?? '', authToken: typeof token === 'string' ? token : null });
    const match = /\/v2\/images\/([^/]+)(\/file)?$/.exec(request.url ?? '');
    const id = match === null ? '' : decodeURIComponent(match[1]!);
    const behaviour = this.images.get(id);
    if (request.method !== 'GET' || behaviour === undefined) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 Not Found\n\nNo image found\n');
      return;
    }
    if (match![2] === undefined && behaviour.kind !== 'status') {
      // The image record (glanceclient reads it before the data, for the hashes to check).
      const { bytes } = behaviour;
      const record = {
        id,
        status: 'active',
        size: bytes.length,
        checksum: createHash('md5').update(bytes).digest('hex'),
        os_hash_algo: 'sha512',
        os_hash_value: createHash('sha512').update(bytes).digest('hex'),
      };
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(record));
      return;
    }
    if (behaviour.kind === 'status') {
      response.writeHead(behaviour.status, { 'Content-Type': 'text/plain' }).end(`${behaviour.status}\n`);
      return;
    }
    const { bytes } = behaviour;
    const contentMd5 = behaviour.kind === 'serve' && behaviour.contentMd5 !== undefined ? behaviour.contentMd5 : createHash('md5').update(bytes).digest('hex');
    response.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(bytes.length),
      ...(contentMd5 === null ? {} : { 'Content-MD5': contentMd5 }),
    });
    if (behaviour.kind === 'serve') {
      const split = behaviour.holdAfter ?? bytes.length;
      await send(response, bytes.subarray(0, split));
      if (split < bytes.length) {
        await this.held;
        await send(response, bytes.subarray(split));
      }
      response.end();
      return;
    }
    await send(response, bytes.subarray(0, behaviour.after));
    // Flush what was sent, then close: the client sees the connection end short of Content-Length.
    if (behaviour.kind === 'drop') response.socket?.end();
  }
}

/** A port on 127.0.0.1 that nothing listens on: connecting to it is refused. */
export async function refusedUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
