import { readFile } from 'node:fs/promises';
import { decodeSpawnMessage, type SpawnMessage } from '../bus/spawn-message.js';
import { UsageError } from './usage-error.js';

/** --request FILE or --message FILE: the two forms a spawn arrives in, as `drive build` and `spawn` take them. */
export const spawnSourceOptions = { request: { type: 'string' }, message: { type: 'string' } } as const;

async function readInput(path: string): Promise<Buffer> {
  if (path !== '-') return readFile(path);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function readSpawnMessage(values: { request?: string | undefined; message?: string | undefined }): Promise<SpawnMessage> {
  const source = values.request ?? values.message;
  if (!source || (values.request && values.message)) throw new UsageError('takes one of --request FILE or --message FILE');
  const decoded = decodeSpawnMessage(await readInput(source));
  if (values.message && !decoded.oslo) throw new UsageError(`${source} is a plain spawn request, not an oslo.messaging body: use --request`);
  if (values.request && decoded.oslo) throw new UsageError(`${source} is an oslo.messaging body, not a plain spawn request: use --message`);
  return decoded;
}
