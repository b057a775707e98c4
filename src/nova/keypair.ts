import { InvalidComputeRequest } from './invalid-compute-request.js';
import type { Fields } from './json-fields.js';
import type { KeyPair } from './spawn-request.js';

const TYPES: readonly KeyPair['type'][] = ['ssh', 'x509'];

/**
 * One key pair, from Nova's KeyPair 1.x data or our plain request's `keypairs` items (same names). KeyPair
 * before 1.2 had no type: such keys are ssh, as the database column's default made them.
 */
export function readKeyPair(fields: Fields): KeyPair {
  const type = fields.string('type', 'ssh');
  if (!(TYPES as readonly string[]).includes(type)) throw new InvalidComputeRequest(fields.at('type'), type, 'must be "ssh" or "x509"');
  return { name: fields.string('name'), type: type as KeyPair['type'], public_key: fields.string('public_key') };
}

export const KEYPAIR_KEYS = ['name', 'type', 'public_key'];
