/**
 * The metadata API (nova-api-metadata's port 8775) on Node's http: identifies the instance, routes, and
 * stores the one password a guest may post. Every answer comes from memory (the registry), so a request
 * costs no I/O except that password write.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { NovaConfig } from '../config/schema.js';
import { listen, type HttpListener } from '../http-listener.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { httpError, TEXT_HTML, type MetadataResponse } from './http-error.js';
import { identify, type Identified, type MetadataApiConfig } from './identify.js';
import type { MetadataRecord } from './record.js';
import type { MetadataRegistry } from './registry.js';
import { requestPath } from './request-path.js';
import { isRootPath, rootListing, route, type MetadataRequest } from './route.js';

/** password.MAX_SIZE: Nova keeps the password in 4 system_metadata items of 255 characters. */
export const PASSWORD_MAX_SIZE = 4 * 255;
/** Neutron's proxy headers and a guest's requests fit in well under 1 KiB; a larger header block is refused (431). */
export const MAX_HEADER_BYTES = 8 * 1024;
/** A client must send its headers within this, and its whole request within REQUEST_TIMEOUT_MS (408 otherwise). */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;

export interface MetadataServerOptions {
  config: MetadataApiConfig;
  registry: MetadataRegistry;
  log: Logger;
  /** Requests by status; default none. */
  metrics?: Pick<Metrics, 'metadataRequest'>;
}

export type MetadataServer = HttpListener;

/** Nova's [DEFAULT] enabled_apis: the metadata API runs when it lists "metadata". */
export function metadataApiEnabled(config: Pick<NovaConfig, 'DEFAULT'>): boolean {
  return config.DEFAULT.enabled_apis.includes('metadata');
}

/** The headers the API reads; nothing else of a request's headers is looked at. */
const READ_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'content-length',
  'transfer-encoding',
  'x-forwarded-for',
  'x-instance-id',
  'x-instance-id-signature',
  'x-tenant-id',
]);

type HeaderLines = Record<string, string[] | undefined>;

/**
 * The lines of the headers the API reads, by lower-case name, as IncomingMessage.headersDistinct has them.
 * Made from rawHeaders for these names only: headers and headersDistinct build an entry for every header
 * sent, which cost more than the rest of a request.
 */
function headerLines(raw: readonly string[]): HeaderLines {
  const lines: HeaderLines = {};
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!.toLowerCase();
    if (READ_HEADERS.has(name)) (lines[name] ??= []).push(raw[index + 1]!);
  }
  return lines;
}

/** Accept as IncomingMessage.headers has it: its lines joined with ", ". */
function acceptOf(headers: HeaderLines): string {
  return headers['accept']?.join(', ') ?? '';
}

/** A body we will not read: the connection cannot be reused after the response. */
function hasUnreadBody(headers: HeaderLines): boolean {
  const length = headers['content-length']?.[0];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function send(res: ServerResponse, response: MetadataResponse, keepAlive: boolean): void {
  const headers: OutgoingHttpHeaders = { 'Content-Type': response.contentType, 'Content-Length': response.body.length };
  if (response.allow !== undefined) headers['Allow'] = response.allow;
  if (!keepAlive) headers['Connection'] = 'close';
  res.writeHead(response.status, headers);
  res.end(response.body);
}

/** Answers the request; `keepAlive` by default: whether the request left no body unread. */
type Reply = (response: MetadataResponse, keepAlive?: boolean) => void;

type Body = { kind: 'body'; data: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/** The request body; reading stops once it grows past `limit`. */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      resolve({ kind: 'too-large' });
    };
    req.on('data', onData);
    req.on('end', () => resolve({ kind: 'body', data: Buffer.concat(chunks) }));
    // A client gone mid-body (the first settlement wins, so a complete body is not affected).
    req.on('close', () => resolve({ kind: 'aborted' }));
    req.on('error', () => resolve({ kind: 'aborted' }));
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** handle_password's POST, once route() has found the instance has no password yet. */
async function postPassword(req: IncomingMessage, headers: HeaderLines, reply: Reply, request: MetadataRequest, uuid: string, options: MetadataServerOptions): Promise<void> {
  const tooLarge = (): void => reply(httpError(400, request, 'Request is too large.'), false);
  if (Number(headers['content-length']?.[0] ?? 0) > PASSWORD_MAX_SIZE) return tooLarge();
  const body = await readBody(req, PASSWORD_MAX_SIZE);
  if (body.kind === 'aborted') return;
  if (body.kind === 'too-large') return tooLarge();
  let password: string;
  try {
    password = utf8.decode(body.data);
  } catch {
    return reply(httpError(400, request, 'The password is not UTF-8 text.'));
  }
  const outcome = await options.registry.setPassword(uuid, password);
  if (outcome === 'stored') {
    options.log.info('password posted by the instance stored', { instance: uuid });
    return reply({ status: 200, contentType: TEXT_HTML, body: new Uint8Array() });
  }
  reply(outcome === 'conflict' ? httpError(409, request) : httpError(404, request));
}

function handle(req: IncomingMessage, res: ServerResponse, options: MetadataServerOptions): Promise<void> | void {
  const headers = headerLines(req.rawHeaders);
  const reply: Reply = (response, keepAlive = !hasUnreadBody(headers)) => send(res, response, keepAlive);
  const request: MetadataRequest = { method: req.method ?? 'GET', path: requestPath(req.url ?? ''), accept: acceptOf(headers) };
  if (isRootPath(request.path)) return reply(rootListing(request));
  const asking = { ...request, headers, peer: req.socket.remoteAddress ?? '' };
  const identified = identify(asking, options.config, options.registry, options.log);
  if ('unknown' in identified) return answerUnknown(req, headers, reply, request, identified, () => identify(asking, options.config, options.registry, options.log), options);
  if ('error' in identified) return reply(identified.error);
  return answer(req, headers, reply, request, identified, options);
}

function answer(req: IncomingMessage, headers: HeaderLines, reply: Reply, request: MetadataRequest, identified: { record: MetadataRecord; requester: string | null }, options: MetadataServerOptions): Promise<void> | void {
  const { record, requester } = identified;
  const found = route(request, { metadata: record.metadata, password: record.password, requester });
  if ('kind' in found) return postPassword(req, headers, reply, request, record.uuid, options);
  reply(found);
}

/** An instance not known: perhaps one another process (nova-spawnd spawn) recorded since; else the miss stands. */
async function answerUnknown(
  req: IncomingMessage,
  headers: HeaderLines,
  reply: Reply,
  request: MetadataRequest,
  first: Identified,
  again: () => Identified,
  options: MetadataServerOptions,
): Promise<void> {
  const identified = (await options.registry.discover()) ? again() : first;
  if ('unknown' in identified) {
    options.log.error(identified.unknown.message, identified.unknown.context);
    return reply(identified.error);
  }
  if ('error' in identified) return reply(identified.error);
  return answer(req, headers, reply, request, identified, options);
}

export async function startMetadataServer(options: MetadataServerOptions): Promise<MetadataServer> {
  const { config, log } = options;
  if (config.neutron.service_metadata_proxy && !config.neutron.metadata_proxy_shared_secret) {
    log.warning('metadata_proxy_shared_secret is not configured, the metadata information returned by the proxy cannot be trusted');
  }
  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    log.error('metadata request failed', { path: req.url }, error);
    if (!res.headersSent) send(res, httpError(500, { method: req.method ?? 'GET', accept: acceptOf(headerLines(req.rawHeaders)) }), false);
    else res.destroy();
  };
  const server = http.createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    (req, res) => {
      const { metrics } = options;
      if (metrics) res.once('finish', () => metrics.metadataRequest(res.statusCode));
      try {
        const pending = handle(req, res, options);
        if (pending) pending.catch((error: unknown) => fail(req, res, error));
      } catch (error) {
        fail(req, res, error);
      }
    },
  );
  const listener = await listen(server, config.DEFAULT.metadata_listen_port, config.DEFAULT.metadata_listen, log, 'metadata API');
  log.info('metadata API listening', { address: listener.address, port: listener.port, service_metadata_proxy: config.neutron.service_metadata_proxy });
  return listener;
}
