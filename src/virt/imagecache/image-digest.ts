/** Which digest proves that downloaded bytes are the image Glance describes. */
import { getHashes } from 'node:crypto';
import type { ImageMeta } from '../../nova/spawn-request.js';

/** The image metadata a download is checked against; any field may be unknown (null). */
export type ExpectedImage = Pick<ImageMeta, 'disk_format' | 'size' | 'checksum' | 'os_hash_algo' | 'os_hash_value'>;

export interface ExpectedDigest {
  /** The name Glance uses (os_hash_algo, or md5 for `checksum`). */
  algorithm: string;
  /** The name node:crypto knows it by. */
  nodeAlgorithm: string;
  /** Lowercase hex. */
  value: string;
}

/** hashlib's names (sha3_512) to OpenSSL's (sha3-512); null when this node cannot compute it. */
function nodeHashName(glanceName: string): string | null {
  const name = glanceName.toLowerCase().replaceAll('_', '-');
  return getHashes().includes(name) ? name : null;
}

/**
 * Glance's multihash (os_hash_algo/os_hash_value, sha512 by default) when this host can compute it, else the
 * legacy MD5 `checksum`, else the MD5 Glance sends as Content-MD5 (hex, as Glance writes it, or base64 as
 * RFC 1864 does), else none (the size is still checked).
 */
export function expectedDigest(expected: ExpectedImage | null, contentMd5: string | null): ExpectedDigest | null {
  if (expected?.os_hash_algo && expected.os_hash_value) {
    const nodeAlgorithm = nodeHashName(expected.os_hash_algo);
    if (nodeAlgorithm !== null) {
      return { algorithm: expected.os_hash_algo, nodeAlgorithm, value: expected.os_hash_value.toLowerCase() };
    }
  }
  if (expected?.checksum) return { algorithm: 'md5', nodeAlgorithm: 'md5', value: expected.checksum.toLowerCase() };
  if (contentMd5 !== null) {
    const hex = /^[0-9a-fA-F]{32}$/.test(contentMd5) ? contentMd5 : Buffer.from(contentMd5, 'base64').toString('hex');
    if (hex.length === 32) return { algorithm: 'md5 (Content-MD5)', nodeAlgorithm: 'md5', value: hex.toLowerCase() };
  }
  return null;
}
