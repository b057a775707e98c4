/** oslo's notification listener (test/bus/helpers/oslo_peer.py listen), with Nova's verdict on each payload. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { PayloadPrimitive } from '../../../src/nova/instance-payload.js';
import { DEBIAN_PYTHON } from '../../metadata/python.js';
import { eventually } from './rabbit.js';

const PEER = fileURLToPath(new URL('./oslo_peer.py', import.meta.url));

export interface ListenedNotification {
  priority: string;
  publisher_id: string;
  event_type: string;
  request_id: string | null;
  auth_token: string | null;
  /** The message's request context as oslo's listener unpacks it. */
  context: Record<string, unknown>;
  message_id: string;
  timestamp: string;
  payload: PayloadPrimitive;
  /** Nova's objects on the payload: what obj_from_primitive made of it, or the error it raised. */
  nova: {
    class?: string;
    version?: string;
    uuid?: string;
    state?: string;
    task_state?: string | null;
    power_state?: string | null;
    flavor_memory_mb?: number | null;
    fault?: string | null;
    error?: string;
  };
}

/**
 * oslo's notification listener on `topic` of the broker at `url`, started (and listening) before anything is
 * sent; `heard` resolves with what it heard once it has `count` notifications or `timeoutS` passed.
 */
export async function listen(url: string, count: number, options: { timeoutS?: number; topic?: string } = {}): Promise<{ heard: Promise<ListenedNotification[]> }> {
  const args = [PEER, 'listen', url, String(count), String(options.timeoutS ?? 60), ...(options.topic === undefined ? [] : [options.topic])];
  const child = spawn(DEBIAN_PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  await eventually('the oslo listener to listen', () => (stderr.includes('listening') ? true : child.exitCode !== null ? Promise.reject(new Error(stderr)) : undefined));
  return { heard: exited.then(() => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as ListenedNotification)) };
}
