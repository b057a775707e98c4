import { gunzipSync } from 'node:zlib';
import { runTool } from './run-tool.js';

/** The compressions Debian uses for kernels and modules that this host can undo with its own tools. */
export type Compression = 'gzip' | 'xz' | 'zstd';

const MAGIC: ReadonlyArray<readonly [Compression, readonly number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

/**
 * Which compression `bytes` starts with, or undefined for anything else (bzip2, lzma, lzo, lz4, or plain data such
 * as an uncompressed .ko). Debian ships modules as foo.ko or foo.ko.xz/.zst/.gz depending on the release.
 */
export function compressionOf(bytes: Uint8Array): Compression | undefined {
  return MAGIC.find(([, magic]) => magic.every((byte, i) => bytes[i] === byte))?.[0];
}

export async function decompress(bytes: Uint8Array, compression: Compression): Promise<Buffer> {
  switch (compression) {
    case 'gzip':
      return gunzipSync(bytes);
    case 'xz':
      return runTool('xz', ['--decompress', '--stdout'], bytes);
    case 'zstd':
      return runTool('zstd', ['--decompress', '--stdout', '--quiet'], bytes);
  }
}

