/** Runs Nova's own MetadataRequestHandler (nova_metadata_handler.py) on the instance our tests serve. */
import { fileURLToPath } from 'node:url';
import { helperDocument, type NovaDriveInput } from '../metadata/nova-reference.js';
import { runPython } from '../metadata/python.js';

const HELPER = fileURLToPath(new URL('./nova_metadata_handler.py', import.meta.url));

export interface NovaHandlerConfig {
  service_metadata_proxy: boolean;
  metadata_proxy_shared_secret: string;
  use_forwarded_for: boolean;
}

export interface NovaRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  remote_addr: string;
  body?: Buffer;
  /** What os.urandom(512) returns while this request is served (meta_data.json's random_seed). */
  random_seed?: Buffer;
}

export interface NovaResponse {
  status: number;
  contentType: string | null;
  body: Buffer;
}

export async function novaHandler(
  input: NovaDriveInput,
  config: NovaHandlerConfig,
  password: string | null,
  requests: readonly NovaRequest[],
): Promise<NovaResponse[]> {
  const document = {
    ...helperDocument(input),
    conf: config,
    password,
    requests: requests.map((request) => ({
      method: request.method,
      path: request.path,
      headers: request.headers ?? {},
      remote_addr: request.remote_addr,
      body: request.body?.toString('base64') ?? null,
      random_seed: request.random_seed?.toString('base64') ?? null,
    })),
  };
  const responses = JSON.parse(await runPython([HELPER], document)) as { status: number; headers: [string, string][]; body: string }[];
  return responses.map((response) => ({
    status: response.status,
    contentType: response.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? null,
    body: Buffer.from(response.body, 'base64'),
  }));
}
