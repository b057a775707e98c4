/** Wire bodies made by Nova and oslo.messaging themselves (test/helpers/nova_wire_body.py). */
import { fileURLToPath } from 'node:url';
import { runPython } from '../metadata/python.js';

const HELPER = fileURLToPath(new URL('../helpers/nova_wire_body.py', import.meta.url));

export interface WireBody {
  body: Buffer;
  content_type: string;
  content_encoding: string;
  delivery_mode: number;
  exchange: string;
  routing_key: string;
}

/**
 * `upgradeLevel` is nova.conf's [upgrade_levels] compute: "6.0" casts RPC 6.0, "victoria" 5.11, "5.0" 5.0.
 */
export async function novaWireBody(scenario: 'full' | 'minimal', upgradeLevel: string): Promise<WireBody> {
  const { body_base64, ...properties } = JSON.parse(await runPython([HELPER, scenario, upgradeLevel], null)) as Omit<WireBody, 'body'> & {
    body_base64: string;
  };
  return { body: Buffer.from(body_base64, 'base64'), ...properties };
}
