/** Nova's own ComputeAPI and oslo.messaging's RPC client as a peer of the daemon (oslo_peer.py: its commands). */
import { fileURLToPath } from 'node:url';
import { runPython } from '../../metadata/python.js';

/** The script, for a command that runs on beside the test (declare). */
export const PEER = fileURLToPath(new URL('./oslo_peer.py', import.meta.url));

/** Runs one command of oslo_peer.py; its last output line, JSON: the call's result or its error. */
export async function peer(...args: string[]): Promise<Record<string, unknown>> {
  const out = await runPython([PEER, ...args], null);
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}
