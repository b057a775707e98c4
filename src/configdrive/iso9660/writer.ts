/** The bytes step: writes a planned layout into one zero-filled buffer, with no decisions left to make. */
import { systemUseOffset, writeDirectoryRecord } from './directory-record.js';
import { recordDate, SECTOR_SIZE, volumeDate } from './encoding.js';
import type { IsoOptions } from './index.js';
import { DESCRIPTOR_SECTORS, type IsoLayout, type PlannedTree } from './layout.js';
import { writePathTable } from './path-table.js';
import { writeSystemUse } from './rock-ridge.js';
import { writeTerminator, writeVolumeDescriptor } from './volume-descriptor.js';

function writeTree(image: Buffer, tree: PlannedTree, date: Uint8Array): void {
  writePathTable(image, tree.pathTableL * SECTOR_SIZE, tree.pathTable, 'L');
  writePathTable(image, tree.pathTableM * SECTOR_SIZE, tree.pathTable, 'M');
  for (const directory of tree.directories) {
    const base = directory.extent * SECTOR_SIZE;
    for (const record of directory.records) {
      const { target, identifier, rockRidge } = record;
      const at = base + record.offset;
      writeDirectoryRecord(image, at, {
        length: record.length,
        extent: target.extent,
        dataLength: target.kind === 'directory' ? target.size : target.data.length,
        isDirectory: target.kind === 'directory',
        identifier,
        date,
      });
      if (rockRidge) {
        writeSystemUse(image, at + systemUseOffset(identifier.length), rockRidge.record, rockRidge.continuation, date);
      }
    }
  }
}

export function writeIso(layout: IsoLayout, options: IsoOptions): Buffer {
  const image = Buffer.alloc(layout.totalSectors * SECTOR_SIZE);
  const date = recordDate(options.recordedAt);
  const descriptorDate = volumeDate(options.recordedAt);

  for (const kind of ['primary', 'joliet'] as const) {
    const tree = layout[kind];
    const root = tree.directories[0]!;
    writeVolumeDescriptor(image, DESCRIPTOR_SECTORS[kind], {
      kind,
      volumeId: options.volumeId,
      publisher: options.publisher,
      volumeSpaceSize: layout.totalSectors,
      pathTableSize: tree.pathTableSize,
      pathTableL: tree.pathTableL,
      pathTableM: tree.pathTableM,
      rootExtent: root.extent,
      rootSize: root.size,
      volumeDate: descriptorDate,
      recordDate: date,
    });
    writeTree(image, tree, date);
  }
  writeTerminator(image, DESCRIPTOR_SECTORS.terminator);

  for (const file of layout.files) {
    if (file.data.length > 0) image.set(file.data, file.extent * SECTOR_SIZE);
  }
  return image;
}
