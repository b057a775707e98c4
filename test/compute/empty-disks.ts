import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskPreparer } from '../../src/compute/disk-preparer.js';

/**
 * For test:///default, which never opens disk files: empty placeholders where the image cache would put
 * the root disk, so the pipeline's own steps are what these tests exercise.
 */
export const emptyDisks: DiskPreparer = {
  async prepare(_request, directory) {
    const path = join(directory, 'disk');
    await writeFile(path, '', { flag: 'a' });
    return { images: { disk: { path, format: 'qcow2' } }, kernel: null };
  },
};
