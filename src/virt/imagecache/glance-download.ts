/**
 * Streams an image from Glance (`GET /v2/images/{id}/file`) into a file, trying the api_servers in order,
 * and checks the bytes against the image's metadata as they arrive. Memory use does not depend on the
 * image's size: each chunk is hashed and written before the next is read. A download logs its size as it
 * starts, its progress every few seconds, and its duration and rate at the end; its bytes are counted in the
 * metrics as they arrive, and a listener (the spawn command's progress bar) may watch them.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../metrics/metrics.js';
import { DownloadProgress, formatBytes } from './download-progress.js';
import { ImageChecksumMismatch } from './errors/image-checksum-mismatch.js';
import { ImageDownloadFailed } from './errors/image-download-failed.js';
import { ImageNotFound } from './errors/image-not-found.js';
import { imageFileUrl } from './glance-url.js';
import { expectedDigest, type ExpectedImage } from './image-digest.js';

export interface DownloadRequest {
  imageId: string;
  /** [glance] api_servers, tried in order; not empty. */
  apiServers: readonly string[];
  /** The request context's token, sent as X-Auth-Token. */
  authToken: string | null;
  expected: ExpectedImage | null;
  /** A server that sends nothing for this long is given up on (the next one is tried). */
  idleTimeoutMs: number;
  log: Logger;
  metrics: Pick<Metrics, 'imageBytesDownloaded'>;
  /** Told of the bytes received so far, as they arrive. */
  listener?: DownloadListener | undefined;
}

/** Watches a download as its bytes arrive (the spawn command's progress bar). */
export interface DownloadListener {
  /** `received` bytes of image `imageId` so far, of `size` (null when unknown); restarts at 0 with another server. */
  progress(imageId: string, received: number, size: number | null): void;
}

/** How often a download in progress logs how far it is. */
const PROGRESS_EVERY_MS = 5000;

/** A server's failure after which the next server may do better. */
class ServerFailed extends Error {}

/** Starts the GET; resolves with the response head, rejects (ServerFailed) when no response came. */
function requestImage(url: URL, authToken: string | null, idleTimeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).get(url, {
      headers: authToken === null ? {} : { 'X-Auth-Token': authToken },
      // A download can take long; a fresh connection each time spares us a pooled socket the server dropped.
      agent: false,
      timeout: idleTimeoutMs,
    });
    let response: IncomingMessage | undefined;
    // The socket timeout covers the body too: it fires whenever the server goes quiet for idleTimeoutMs.
    // The response is destroyed first so that the body's reader sees this reason rather than "aborted".
    request.on('timeout', () => {
      const error = new ServerFailed(`no data for ${idleTimeoutMs} ms`);
      response?.destroy(error);
      request.destroy(error);
    });
    request.on('error', (error) => reject(error instanceof ServerFailed ? error : new ServerFailed(error.message)));
    request.on('response', (head) => resolve((response = head)));
  });
}

/** Writes the body to `target` (truncating what an earlier server left) and returns its size and digest. */
async function receiveBody(response: IncomingMessage, target: string, algorithm: string | null, report: (bytes: number) => void): Promise<{ size: number; digest: string | null }> {
  const hash = algorithm === null ? null : createHash(algorithm);
  const handle = await open(target, 'w');
  let size = 0;
  try {
    const chunks = response[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = (await chunks.next()) as IteratorResult<Buffer>;
      } catch (error) {
        // Dropped connection, or the idle timeout destroying it. Local write errors are not caught here.
        throw new ServerFailed(`connection lost after ${size} bytes: ${(error as Error).message}`);
      }
      if (next.done) break;
      hash?.update(next.value);
      await handle.writeFile(next.value);
      size += next.value.length;
      report(next.value.length);
    }
  } finally {
    await handle.close();
    response.destroy();
  }
  return { size, digest: hash === null ? null : hash.digest('hex') };
}

function header(response: IncomingMessage, name: string): string | null {
  const value = response.headers[name];
  return typeof value === 'string' ? value : null;
}

/** One server: resolves when `target` holds the verified image; throws ServerFailed to move on. */
async function downloadFrom(url: URL, request: DownloadRequest, target: string, attempts: readonly string[]): Promise<void> {
  const { imageId, expected } = request;
  const response = await requestImage(url, request.authToken, request.idleTimeoutMs);
  const status = response.statusCode ?? 0;
  if (status !== 200) {
    response.destroy();
    const line = `GET ${url}: HTTP ${status}`;
    if (status === 404) throw new ImageNotFound(imageId, line);
    if (status >= 500) throw new ServerFailed(`HTTP ${status}`);
    // 401/403 (the token), 204 (no data uploaded), redirects: every server would answer the same.
    throw new ImageDownloadFailed(imageId, [...attempts, line], false);
  }
  const digest = expectedDigest(expected, header(response, 'content-md5'));
  const length = Number(header(response, 'content-length') ?? Number.NaN);
  const progress = new DownloadProgress(Number.isSafeInteger(length) ? length : (expected?.size ?? null), Date.now, PROGRESS_EVERY_MS);
  const context = { image: imageId, url: url.toString() };
  request.log.info(`downloading image: ${progress.size === null ? 'size unknown' : formatBytes(progress.size)}`, { ...context, bytes: progress.size ?? undefined });
  request.listener?.progress(imageId, 0, progress.size);
  const body = await receiveBody(response, target, digest?.nodeAlgorithm ?? null, (bytes) => {
    request.metrics.imageBytesDownloaded(bytes);
    if (progress.add(bytes)) request.log.info(`downloading image: ${progress.describe()}`, context);
    request.listener?.progress(imageId, progress.received, progress.size);
  });
  request.log.info(`image downloaded: ${progress.summary()}`, { ...context, bytes: body.size, seconds: Number(progress.elapsedSeconds.toFixed(3)) });
  if (expected?.size != null && body.size !== expected.size) {
    throw new ImageChecksumMismatch(imageId, url.toString(), 'size', String(expected.size), String(body.size));
  }
  if (digest !== null && body.digest !== digest.value) {
    throw new ImageChecksumMismatch(imageId, url.toString(), digest.algorithm, digest.value, body.digest!);
  }
}

/** nova.image.glance.API.download: the image's bytes into `target`, verified, or a typed error. */
export async function downloadImage(request: DownloadRequest, target: string): Promise<void> {
  const attempts: string[] = [];
  for (const server of request.apiServers) {
    const url = imageFileUrl(server, request.imageId);
    try {
      await downloadFrom(url, request, target, attempts);
      return;
    } catch (error) {
      if (!(error instanceof ServerFailed)) throw error;
      attempts.push(`GET ${url}: ${error.message}`);
      request.log.warning('image download from a Glance server failed', { image: request.imageId, url: url.toString(), reason: error.message });
    }
  }
  throw new ImageDownloadFailed(request.imageId, attempts, true);
}
